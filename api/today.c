/*
 * today.c - the microlearning rhythm (issue #18): a learner's preferences
 * (/v1/me/preferences), today's plan (/v1/me/today), answers to spaced
 * review questions (/v1/reviews/{id}/answer), the concepts that tie
 * lessons, questions and exercises to what the grader finds, and which
 * nudges a learner gets (their preferences' "nudges", and the tenant's
 * defaults at /v1/settings/nudges; the nudges themselves are made by
 * nudge_scan(), migrations/0018_nudges.sql).
 *
 * The decisions live in SQL, in migrations/0015_today.sql, each in one
 * place: verdict_concept() maps a verdict to a concept, review_apply() is
 * SM-2, today_candidates() lists what the plan may hold in its order,
 * learner_streak() and learner_pace() measure the rhythm.  This file
 * validates, fits the candidates to the learner's minutes, and renders.
 * docs/LEARNING.md explains the rules to people.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../daemon/db.h"
#include "../common/err.h"
#include "api.h"
#include "util.h"

#define CONCEPTS_MAX	16
#define CONCEPT_LEN	40

static const char *const day_names[] = { "mon", "tue", "wed", "thu", "fri",
	"sat", "sun", NULL };

static const struct db_stmt today_stmts[] = {
	{ "today_settings", "SELECT daily_minutes, timezone, reminder_time, "
	  "study_days::text FROM learner_settings($1::uuid)" },
	{ "today_tz_ok", "SELECT EXISTS (SELECT 1 FROM pg_timezone_names "
	  "WHERE name = $1)" },
	{ "today_prefs_put", "INSERT INTO learner_preferences (tenant_id, "
	  "user_id, daily_minutes, timezone, reminder_time, study_days) VALUES "
	  "(current_tenant(), $1, $2::int, $3, $4::time, $5::int[]) ON CONFLICT "
	  "(tenant_id, user_id) DO UPDATE SET daily_minutes = "
	  "excluded.daily_minutes, timezone = excluded.timezone, reminder_time = "
	  "excluded.reminder_time, study_days = excluded.study_days, updated_at "
	  "= clock_timestamp()" },
	/* Set by the same PUT, after today_prefs_put made the row. */
	{ "today_nudges_put", "UPDATE learner_preferences SET nudge_daily = "
	  "$2::bool, nudge_reengage = $3::bool WHERE tenant_id = "
	  "current_tenant() AND user_id = $1" },
	{ "today_nudges", "SELECT daily_reminder, re_engagement FROM "
	  "learner_nudges($1::uuid)" },
	/* The tenant's defaults: no row, both on. */
	{ "nudge_defaults_get", "SELECT coalesce(d.daily_reminder, true), "
	  "coalesce(d.re_engagement, true) FROM (SELECT 1) one LEFT JOIN "
	  "nudge_defaults d ON d.tenant_id = current_tenant()" },
	{ "nudge_defaults_put", "INSERT INTO nudge_defaults (tenant_id, "
	  "daily_reminder, re_engagement) VALUES (current_tenant(), $1::bool, "
	  "$2::bool) ON CONFLICT (tenant_id) DO UPDATE SET daily_reminder = "
	  "excluded.daily_reminder, re_engagement = excluded.re_engagement, "
	  "updated_at = clock_timestamp(), version = nudge_defaults.version + 1" },
	/* The learner's date now, and when that day ends, in their zone. */
	{ "today_clock", "SELECT (now() AT TIME ZONE $1)::date::text, "
	  "rfc3339(((now() AT TIME ZONE $1)::date + 1)::timestamp AT TIME ZONE "
	  "$1)" },
	{ "today_items", "SELECT grp, kind, id, title, estimated_minutes, reason, "
	  "rfc3339(due_at) FROM today_candidates($1::uuid, $2::timestamptz)" },
	{ "today_streak", "SELECT current, best FROM learner_streak($1::uuid, $2, "
	  "$3::int[])" },
	{ "today_pace", "SELECT on_track, remaining_minutes, planned_finish, "
	  "rfc3339(cohort_ends_at) FROM learner_pace($1::uuid, $2, $3::int[], "
	  "$4::int)" },
	/* A question the learner may review: in a program they see. */
	{ "review_question", "SELECT q.kind, q.answer::text, q.tolerance, "
	  "q.explanation, q.options::text FROM quiz_questions q JOIN "
	  "assessments a ON a.tenant_id = q.tenant_id AND a.id = "
	  "q.assessment_id JOIN modules m ON m.tenant_id = a.tenant_id AND "
	  "m.id = a.module_id WHERE q.tenant_id = current_tenant() AND q.id = $1 "
	  "AND learner_sees_program(m.program_id, $2::uuid)" },
	{ "review_record", "WITH a AS (INSERT INTO review_answers (tenant_id, "
	  "user_id, question_id, correct) VALUES (current_tenant(), $1, $2, "
	  "$3::bool) RETURNING answered_at) SELECT rfc3339(review_apply("
	  "current_tenant(), $1, $2, $3::bool, (SELECT answered_at FROM a)))" },
	{ "today_lesson_review", "INSERT INTO lesson_reviews (tenant_id, "
	  "enrollment_id, lesson_id) VALUES (current_tenant(), $1, $2) ON "
	  "CONFLICT DO NOTHING" },
};

void
api_today_init(void)
{
	db_register(today_stmts, sizeof(today_stmts) / sizeof(*today_stmts));
}

/* ---- concepts ---------------------------------------------------------- */

static int
concept_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > CONCEPT_LEN || s[0] == '-' || s[n - 1] == '-')
		return 0;
	for (size_t i = 0; i < n; i++) {
		int alnum = (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9');

		if (s[i] == '-' ? s[i + 1] == '-' : !alnum)
			return 0;
	}
	return 1;
}

int
api_concepts_field(struct api_v *v, json_t *obj, const char *base,
    char **out)
{
	json_t *arr = json_object_get(obj, "concepts"), *e;
	char ptr[160];
	size_t i;

	*out = NULL;
	if (arr == NULL)
		return 0;
	v_pointer(ptr, sizeof(ptr), base, "concepts");
	if (!json_is_array(arr) || json_array_size(arr) > CONCEPTS_MAX) {
		v_error(v, ptr, "must be an array of up to %d concept slugs",
		    CONCEPTS_MAX);
		return 0;
	}
	json_array_foreach(arr, i, e) {
		if (!json_is_string(e) || !concept_ok(json_string_value(e))) {
			char ip[192];

			snprintf(ip, sizeof(ip), "%s/%zu", ptr, i);
			v_error(v, ip, "must be a slug of lowercase letters, "
			    "digits and single hyphens, at most %d characters",
			    CONCEPT_LEN);
			return 0;
		}
	}
	return (*out = api_text_array(arr)) != NULL;
}

int
api_today_lesson_reviewed(struct http_req *r, const char *enrollment,
    const char *lesson)
{
	const char *p[2] = { enrollment, lesson };

	return db_rows(r->db, "today_lesson_review", 2, p) < 0 ?
	    CD_ERR_DATABASE : 0;
}

/* ---- preferences ------------------------------------------------------- */

struct today_settings {
	int	minutes;
	char	tz[80];
	char	days[32];		/* "{1,2,...}" */
	json_t	*json;		/* the preferences as rendered */
};

static int
today_settings(struct http_req *r, struct today_settings *s)
{
	const char *p[1] = { api_user(r) };
	PGresult *res;
	json_t *days;
	const char *d;

	memset(s, 0, sizeof(*s));
	if ((res = db_exec(r->db, "today_settings", 1, p)) == NULL)
		return CD_ERR_DATABASE;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return CD_ERR_INTERNAL;
	}
	s->minutes = atoi(PQgetvalue(res, 0, 0));
	snprintf(s->tz, sizeof(s->tz), "%s", PQgetvalue(res, 0, 1));
	snprintf(s->days, sizeof(s->days), "%s", PQgetvalue(res, 0, 3));
	days = json_array();
	for (d = s->days; *d != '\0'; d++)
		if (*d >= '1' && *d <= '7')
			json_array_append_new(days, json_string(
			    day_names[*d - '1']));
	s->json = json_pack("{s:i, s:s, s:s?, s:o}", "daily_minutes",
	    s->minutes, "timezone", s->tz, "reminder_time",
	    PQgetisnull(res, 0, 2) ? NULL : PQgetvalue(res, 0, 2),
	    "study_days", days);
	PQclear(res);
	if (s->json == NULL)
		return CD_ERR_NOMEM;
	if ((res = db_exec(r->db, "today_nudges", 1, p)) == NULL) {
		json_decref(s->json);
		s->json = NULL;
		return CD_ERR_DATABASE;
	}
	if (PQntuples(res) == 1)
		json_object_set_new(s->json, "nudges", json_pack("{s:b, s:b}",
		    "daily_reminder", strcmp(PQgetvalue(res, 0, 0), "t") == 0,
		    "re_engagement", strcmp(PQgetvalue(res, 0, 1), "t") == 0));
	PQclear(res);
	return 0;
}

/* The kinds of nudge one can turn off, as the API names them. */
static const char *const nudge_kinds[] = { "daily_reminder",
	"re_engagement", NULL };

/*
 * The "nudges" object of a body: each kind true, false or null (null,
 * or absent, follows the tenant's default for learners; for the
 * defaults themselves, absent is true).  out[i] "true", "false" or NULL.
 */
static void
nudges_field(struct api_v *v, json_t *obj, const char *base,
    const char *out[2], int nullable)
{
	char ptr[64];

	out[0] = out[1] = nullable ? NULL : "true";
	if (obj == NULL)
		return;
	if (!json_is_object(obj)) {
		v_error(v, base[0] != '\0' ? base : "/", "must be an object: "
		    "{\"daily_reminder\": bool, \"re_engagement\": bool}");
		return;
	}
	v_only(v, obj, base, nudge_kinds);
	for (int i = 0; nudge_kinds[i] != NULL; i++) {
		json_t *j = json_object_get(obj, nudge_kinds[i]);

		if (j == NULL || (nullable && json_is_null(j)))
			continue;
		if (!json_is_boolean(j)) {
			v_pointer(ptr, sizeof(ptr), base, nudge_kinds[i]);
			v_error(v, ptr, nullable ? "must be true, false or null "
			    "(the tenant's default)" : "must be true or false");
			continue;
		}
		out[i] = json_is_true(j) ? "true" : "false";
	}
}

int
api_preferences_get(struct http_req *r)
{
	struct today_settings s;
	int rc;

	if ((rc = today_settings(r, &s)) != 0)
		return rc;
	return http_json(r, 200, s.json);
}

static int
hhmm_ok(const char *s)
{
	return strlen(s) == 5 && s[2] == ':' &&
	    s[0] >= '0' && s[0] <= '2' && s[1] >= '0' && s[1] <= '9' &&
	    (s[0] < '2' || s[1] <= '3') &&
	    s[3] >= '0' && s[3] <= '5' && s[4] >= '0' && s[4] <= '9';
}

int
api_preferences_put(struct http_req *r)
{
	static const char *const allowed[] = { "daily_minutes", "timezone",
		"reminder_time", "study_days", "nudges", NULL };
	struct api_v v;
	json_t *body, *j, *e;
	const char *tz = NULL, *rt = NULL, *nudges[2] = { NULL, NULL };
	char minutes[16] = "10", days[32] = "{1,2,3,4,5,6,7}";
	long m;
	size_t i;
	int rc = CD_ERR_INTERNAL;

	if ((body = v_begin(&v, r, NULL)) == NULL) {
		rc = v_failed(&v, r);	/* a 422: the body is not an object */
		goto out;
	}
	v_only(&v, body, "", allowed);
	if (v_int(&v, body, "", "daily_minutes", 0, 1, 240, &m))
		snprintf(minutes, sizeof(minutes), "%ld", m);
	if ((j = json_object_get(body, "timezone")) != NULL &&
	    !json_is_null(j)) {
		if (!json_is_string(j) || json_string_length(j) < 1 ||
		    json_string_length(j) > 64)
			v_error(&v, "/timezone", "must be an IANA timezone "
			    "name, such as Europe/Paris, or null");
		else {
			const char *p[1] = { json_string_value(j) };
			PGresult *res = db_exec(r->db, "today_tz_ok", 1, p);

			if (res == NULL) {
				rc = CD_ERR_DATABASE;
				goto out;
			}
			if (strcmp(PQgetvalue(res, 0, 0), "t") == 0)
				tz = json_string_value(j);
			else
				v_error(&v, "/timezone", "is not a timezone "
				    "name PostgreSQL knows (IANA, such as "
				    "Europe/Paris)");
			PQclear(res);
		}
	}
	if ((j = json_object_get(body, "reminder_time")) != NULL &&
	    !json_is_null(j)) {
		if (!json_is_string(j) || !hhmm_ok(json_string_value(j)))
			v_error(&v, "/reminder_time", "must be \"HH:MM\" "
			    "(00:00 to 23:59) or null");
		else
			rt = json_string_value(j);
	}
	if ((j = json_object_get(body, "study_days")) != NULL) {
		int seen[7] = { 0 };
		size_t n = 1;

		if (!json_is_array(j) || json_array_size(j) < 1 ||
		    json_array_size(j) > 7)
			v_error(&v, "/study_days", "must be an array of 1 to 7 "
			    "days: mon, tue, wed, thu, fri, sat, sun");
		else {
			json_array_foreach(j, i, e) {
				char ptr[48];
				int k = -1;

				for (int d = 0; day_names[d] != NULL; d++)
					if (json_is_string(e) && strcmp(
					    json_string_value(e), day_names[d])
					    == 0)
						k = d;
				snprintf(ptr, sizeof(ptr), "/study_days/%zu", i);
				if (k < 0)
					v_error(&v, ptr, "must be one of mon, "
					    "tue, wed, thu, fri, sat, sun");
				else if (seen[k]++)
					v_error(&v, ptr, "is given twice");
			}
			days[0] = '{';
			for (int d = 0; d < 7; d++)
				if (seen[d]) {
					days[n++] = (char)('1' + d);
					days[n++] = ',';
				}
			days[n > 1 ? n - 1 : n++] = '}';
			days[n] = '\0';
		}
	}
	/* Absent, the switches stay as they are: a learner's "no" to an
	 * email is never undone by a client that does not know of them. */
	if ((j = json_object_get(body, "nudges")) != NULL && !json_is_null(j))
		nudges_field(&v, j, "/nudges", nudges, 1);
	if ((rc = v_failed(&v, r)) != 0)
		goto out;
	{
		const char *p[5] = { api_user(r), minutes, tz, rt, days };
		const char *q[3] = { api_user(r), nudges[0], nudges[1] };

		if (db_rows(r->db, "today_prefs_put", 5, p) < 0 ||
		    (json_object_get(body, "nudges") != NULL &&
		    db_rows(r->db, "today_nudges_put", 3, q) < 0)) {
			rc = CD_ERR_DATABASE;
			goto out;
		}
	}
	api_audited(r, "preferences", api_user(r));
	rc = api_preferences_get(r);
 out:
	v_free(&v);
	return api_result(rc);
}

/* ---- the tenant's nudge defaults ---------------------------------------- */

int
api_nudge_defaults_get(struct http_req *r)
{
	PGresult *res;
	json_t *out;

	if ((res = db_exec(r->db, "nudge_defaults_get", 0, NULL)) == NULL)
		return CD_ERR_DATABASE;
	out = json_pack("{s:b, s:b}", "daily_reminder", strcmp(PQgetvalue(res,
	    0, 0), "t") == 0, "re_engagement", strcmp(PQgetvalue(res, 0, 1),
	    "t") == 0);
	PQclear(res);
	if (out == NULL)
		return CD_ERR_NOMEM;
	return http_json(r, 200, out);
}

int
api_nudge_defaults_put(struct http_req *r)
{
	struct api_v v;
	json_t *body;
	const char *set[2];
	int rc = CD_ERR_INTERNAL;

	if ((body = v_begin(&v, r, NULL)) == NULL) {
		rc = v_failed(&v, r);	/* a 422: the body is not an object */
		goto out;
	}
	nudges_field(&v, body, "", set, 0);
	if ((rc = v_failed(&v, r)) != 0)
		goto out;
	if (db_rows(r->db, "nudge_defaults_put", 2, set) < 0) {
		rc = CD_ERR_DATABASE;
		goto out;
	}
	api_audited(r, "nudge_defaults", r->who.tenant_id);
	rc = api_nudge_defaults_get(r);
 out:
	v_free(&v);
	return api_result(rc);
}

/* ---- today's plan ------------------------------------------------------ */

int
api_today(struct http_req *r)
{
	struct today_settings s;
	PGresult *clock = NULL, *items = NULL, *streak = NULL, *pace = NULL;
	json_t *list = NULL, *seen = NULL, *out;
	int rc, used = 0;

	if ((rc = today_settings(r, &s)) != 0)
		return rc;
	{
		const char *p[1] = { s.tz };

		if ((clock = db_exec(r->db, "today_clock", 1, p)) == NULL) {
			rc = CD_ERR_DATABASE;
			goto out;
		}
	}
	{
		const char *p[2] = { api_user(r), PQgetvalue(clock, 0, 1) };

		if ((items = db_exec(r->db, "today_items", 2, p)) == NULL) {
			rc = CD_ERR_DATABASE;
			goto out;
		}
	}
	{
		const char *p[3] = { api_user(r), s.tz, s.days };

		if ((streak = db_exec(r->db, "today_streak", 3, p)) == NULL) {
			rc = CD_ERR_DATABASE;
			goto out;
		}
	}
	{
		char m[16];
		const char *p[4] = { api_user(r), s.tz, s.days, m };

		snprintf(m, sizeof(m), "%d", s.minutes);
		if ((pace = db_exec(r->db, "today_pace", 4, p)) == NULL) {
			rc = CD_ERR_DATABASE;
			goto out;
		}
	}
	/*
	 * Fit the candidates, in their order, to the minutes: the first one
	 * always goes in (a budget smaller than one lesson still gets that
	 * lesson), and the plan ends at the first that would overrun, so
	 * nothing later jumps the order.  An item listed for two reasons
	 * keeps its first.
	 */
	list = json_array();
	seen = json_object();
	for (int i = 0; i < PQntuples(items); i++) {
		const char *id = PQgetvalue(items, i, 2);
		int min = atoi(PQgetvalue(items, i, 4));

		if (json_object_get(seen, id) != NULL)
			continue;
		if (json_array_size(list) > 0 && used + min > s.minutes)
			break;
		used += min;
		json_object_set_new(seen, id, json_true());
		json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:i, "
		    "s:s, s:s?}", "kind", PQgetvalue(items, i, 1), "id", id,
		    "title", PQgetvalue(items, i, 3), "estimated_minutes", min,
		    "reason", PQgetvalue(items, i, 5), "due_at",
		    PQgetisnull(items, i, 6) ? NULL : PQgetvalue(items, i, 6)));
	}
	out = json_pack("{s:s, s:i, s:O, s:{s:i, s:i}}", "date",
	    PQgetvalue(clock, 0, 0), "minutes_budget", s.minutes, "items", list,
	    "streak", "current", atoi(PQgetvalue(streak, 0, 0)), "best",
	    atoi(PQgetvalue(streak, 0, 1)));
	if (PQntuples(pace) == 1)
		json_object_set_new(out, "pace", json_pack("{s:b, s:i, s:s?, "
		    "s:s}", "on_track", strcmp(PQgetvalue(pace, 0, 0), "t") == 0,
		    "remaining_minutes", atoi(PQgetvalue(pace, 0, 1)),
		    "planned_finish", PQgetisnull(pace, 0, 2) ? NULL :
		    PQgetvalue(pace, 0, 2), "cohort_ends_at",
		    PQgetvalue(pace, 0, 3)));
	else
		json_object_set_new(out, "pace", json_null());
	json_object_set_new(out, "timezone", json_string(s.tz));
	rc = http_json(r, 200, out);
 out:
	json_decref(s.json);
	json_decref(list);
	json_decref(seen);
	PQclear(clock);
	PQclear(items);
	PQclear(streak);
	PQclear(pace);
	return rc;
}

/* ---- review answers ---------------------------------------------------- */

/* What the right answer was, when the author wrote no explanation. */
static json_t *
review_explain(const char *kind, json_t *key, json_t *opts)
{
	char buf[4200];
	size_t i, n = 0;
	json_t *e;

	if (strcmp(kind, "single_choice") == 0)
		snprintf(buf, sizeof(buf), "The right answer is: %s",
		    json_string_value(json_array_get(opts,
		    (size_t)json_integer_value(key))));
	else if (strcmp(kind, "multiple_choice") == 0) {
		n = (size_t)snprintf(buf, sizeof(buf), "The right answers are:");
		json_array_foreach(key, i, e)
			if (n < sizeof(buf))
				n += (size_t)snprintf(buf + n, sizeof(buf) - n,
				    "%s %s", i ? ";" : "", json_string_value(
				    json_array_get(opts, (size_t)
				    json_integer_value(e))));
	} else if (strcmp(kind, "true_false") == 0)
		snprintf(buf, sizeof(buf), "The statement is %s.",
		    json_is_true(key) ? "true" : "false");
	else
		snprintf(buf, sizeof(buf), "The right answer is %g.",
		    json_number_value(key));
	return json_string(buf);
}

int
api_review_answer(struct http_req *r)
{
	static const char *const allowed[] = { "answer", NULL };
	struct api_v v;
	json_t *body, *ans = NULL, *key = NULL, *opts = NULL, *expl;
	PGresult *q = NULL, *res = NULL;
	int rc = CD_ERR_INTERNAL, right;

	if (!api_uuid_ok(r->params[0]))
		return CD_ERR_NOT_FOUND;
	v_init(&v);
	{
		const char *p[2] = { r->params[0], api_user(r) };

		if ((q = db_exec(r->db, "review_question", 2, p)) == NULL) {
			rc = CD_ERR_DATABASE;
			goto out;
		}
		if (PQntuples(q) == 0) {
			rc = CD_ERR_NOT_FOUND;
			goto out;
		}
	}
	if ((body = v_body(&v, r)) != NULL) {
		v_only(&v, body, "", allowed);
		ans = json_object_get(body, "answer");
		if (ans == NULL || json_is_null(ans))
			v_error(&v, "/answer", "is required: an option index, "
			    "an array of them, true or false, or a number, as "
			    "the question asks");
	}
	if ((rc = v_failed(&v, r)) != 0)
		goto out;
	key = json_loads(PQgetvalue(q, 0, 1), JSON_DECODE_ANY, NULL);
	opts = json_loads(PQgetvalue(q, 0, 4), JSON_DECODE_ANY, NULL);
	right = api_quiz_right(PQgetvalue(q, 0, 0), key,
	    strtod(PQgetvalue(q, 0, 2), NULL), ans);
	{
		const char *p[3] = { api_user(r), r->params[0],
		    right ? "true" : "false" };

		if ((res = db_exec(r->db, "review_record", 3, p)) == NULL) {
			rc = CD_ERR_DATABASE;
			goto out;
		}
	}
	expl = PQgetisnull(q, 0, 3) ? review_explain(PQgetvalue(q, 0, 0), key,
	    opts) : json_string(PQgetvalue(q, 0, 3));
	api_audited(r, "review", r->params[0]);
	rc = http_json(r, 200, json_pack("{s:s, s:b, s:o, s:s}", "question_id",
	    r->params[0], "correct", right, "explanation", expl ? expl :
	    json_string(""), "next_due_at", PQgetvalue(res, 0, 0)));
 out:
	json_decref(key);
	json_decref(opts);
	PQclear(q);
	PQclear(res);
	v_free(&v);
	return api_result(rc);
}
