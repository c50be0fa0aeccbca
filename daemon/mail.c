/*
 * mail.c - the domain emails' templates and their rendering (mail.h).
 *
 * A template is plain text plus a small HTML part, with "{name}"-style
 * fields filled from the database at the time of the change (outbox.c
 * reads them).  Values are put in once, never scanned again, and are
 * HTML-escaped in the HTML part.
 *
 * The scheduled emails (due in 24 hours, the daily reminder,
 * re-engagement) are written by the scan that decides them, in SQL, so
 * their templates live there: nudge_scan_tenant() in
 * migrations/0018_nudges.sql.
 */
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "../common/buf.h"
#include "../common/err.h"
#include "mail.h"
#include "outbox.h"

struct mail_tpl {
	const char	*event;
	const char	*subject;
	const char	*text;
	const char	*html;
};

static const struct mail_tpl mail_enrolled = { "enrolled",
	"You are enrolled in {cohort}",
	"Hello {name},\n\n"
	"you are enrolled in {cohort}, a cohort of {program}.\n",
	"<p>Hello {name},</p>\n"
	"<p>you are enrolled in <strong>{cohort}</strong>, a cohort of "
	"{program}.</p>\n" };

static const struct mail_tpl mail_promoted = { "promoted",
	"A seat opened for you in {cohort}",
	"Hello {name},\n\n"
	"a seat opened in {cohort}, a cohort of {program}: you have moved up "
	"from the waitlist and are now enrolled.\n",
	"<p>Hello {name},</p>\n"
	"<p>a seat opened in <strong>{cohort}</strong>, a cohort of "
	"{program}: you have moved up from the waitlist and are now "
	"enrolled.</p>\n" };

static const struct mail_tpl mail_graded_tpl = { "graded",
	"Graded: {assessment}",
	"Hello {name},\n\n"
	"your submission to {assessment} ({cohort}) was graded.\n\n"
	"Verdict: {verdict}\n"
	"Score: {score}\n"
	"Score after any late penalty: {final_score} ({passed})\n"
	"{provisional}",
	"<p>Hello {name},</p>\n"
	"<p>your submission to <strong>{assessment}</strong> ({cohort}) was "
	"graded.</p>\n"
	"<ul><li>Verdict: {verdict}</li><li>Score: {score}</li>"
	"<li>Score after any late penalty: {final_score} ({passed})</li></ul>\n"
	"<p>{provisional}</p>\n" };

static const char mail_provisional_note[] =
	"\nThis grade is provisional: your program's speed could not yet be "
	"measured on a quiet machine. It will be measured again, and you "
	"will get another email once the grade is final.\n";

static void
mail_put_escaped(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		const char *e = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" :
		    *s == '>' ? "&gt;" : *s == '"' ? "&quot;" : *s == '\'' ?
		    "&#39;" : NULL;

		if (e != NULL)
			buf_add(b, e, strlen(e));
		else
			buf_add(b, s, 1);
	}
}

/*
 * tpl with each {key} of vars (pairs, NULL-terminated) replaced by its
 * value (escaped when html); unknown fields stay as written.  malloc'd,
 * or NULL when out of memory.
 */
static char *
mail_render(const char *tpl, const char *const *vars, int html)
{
	struct buf b = BUF_INIT;
	const char *p = tpl, *open, *close;

	buf_add(&b, "", 0);
	while ((open = strchr(p, '{')) != NULL &&
	    (close = strchr(open, '}')) != NULL) {
		const char *val = NULL;
		size_t klen = (size_t)(close - open - 1);

		for (int i = 0; vars[i] != NULL; i += 2)
			if (strlen(vars[i]) == klen &&
			    strncmp(vars[i], open + 1, klen) == 0)
				val = vars[i + 1];
		buf_add(&b, p, (size_t)(open - p));
		if (val == NULL)
			buf_add(&b, open, klen + 2);
		else if (html)
			mail_put_escaped(&b, val);
		else
			buf_adds(&b, val);
		p = close + 1;
	}
	buf_add(&b, p, strlen(p));
	if (buf_error(&b) != 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_take(&b);
}

/* Render t with vars and queue it to to. */
static int
mail_queue(struct db_conn *c, const char *tenant, const char *to,
    const struct mail_tpl *t, const char *const *vars)
{
	struct outbox_email m;
	char *subject, *text, *html;
	int rc = CD_ERR_NOMEM;

	subject = mail_render(t->subject, vars, 0);
	text = mail_render(t->text, vars, 0);
	html = mail_render(t->html, vars, 1);
	if (subject != NULL && text != NULL && html != NULL) {
		memset(&m, 0, sizeof(m));
		m.to = to;
		m.event = t->event;
		m.subject = subject;
		m.text = text;
		m.html = html;
		rc = outbox_email(c, tenant, &m);
	}
	free(subject);
	free(text);
	free(html);
	return rc;
}

int
mail_enrollments(struct db_conn *c, const char *tenant)
{
	PGresult *res;
	int rc;

	if ((rc = outbox_enrollment_news(c, &res)) != 0)
		return rc;
	for (int i = 0; i < PQntuples(res) && rc == 0; i++) {
		const char *vars[] = { "name", PQgetvalue(res, i, 2), "cohort",
		    PQgetvalue(res, i, 3), "program", PQgetvalue(res, i, 4),
		    NULL };

		rc = mail_queue(c, tenant, PQgetvalue(res, i, 1),
		    strcmp(PQgetvalue(res, i, 0), "promoted") == 0 ?
		    &mail_promoted : &mail_enrolled, vars);
	}
	PQclear(res);
	return rc;
}

int
mail_graded(struct db_conn *c, const char *tenant, const char *submission)
{
	PGresult *res;
	int rc;

	if ((rc = outbox_graded_facts(c, submission, &res)) != 0)
		return rc;
	if (PQntuples(res) == 1) {
		int prov = strcmp(PQgetvalue(res, 0, 8), "t") == 0;
		const char *vars[] = { "email", PQgetvalue(res, 0, 0), "name",
		    PQgetvalue(res, 0, 1), "assessment", PQgetvalue(res, 0, 2),
		    "cohort", PQgetvalue(res, 0, 3), "verdict",
		    PQgetisnull(res, 0, 4) ? "none" : PQgetvalue(res, 0, 4),
		    "score", PQgetvalue(res, 0, 5), "final_score",
		    PQgetvalue(res, 0, 6), "passed", strcmp(PQgetvalue(res, 0,
		    7), "t") == 0 ? "passed" : "not passed", "provisional",
		    prov ? mail_provisional_note : "", NULL };

		rc = mail_queue(c, tenant, PQgetvalue(res, 0, 0),
		    &mail_graded_tpl, vars);
	}
	PQclear(res);
	return rc;
}
