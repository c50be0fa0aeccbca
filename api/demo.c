/*
 * demo.c - load the demo program, "Concurrency for Leaders" (shipped in
 * content/ and compiled into the binary), into a "demo" tenant with an
 * instructor, a cohort and a few learners.  Used by cohortctl seed-demo.
 *
 * It writes through the functions of the files that own each resource
 * (the same named statements the API uses), so the demo data is exactly
 * what an administrator could have built over HTTP.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "../daemon/auth.h"
#include "../daemon/db.h"
#include "../daemon/embed.h"
#include "../common/err.h"
#include "api.h"
#include "ctl.h"
#include "util.h"

#define DEMO_SLUG	"demo"
#define DEMO_LEARNERS	5

static const struct embedded_file *
demo_file(const char *name)
{
	for (const struct embedded_file *f = embedded_demo; f->name != NULL;
	    f++)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

/* The "concepts" of a content object as a text[] literal, or NULL;
 * the caller frees it. */
static char *
demo_concepts(json_t *obj)
{
	struct api_v v;
	char *out = NULL;

	v_init(&v);
	api_concepts_field(&v, obj, "", &out);
	v_free(&v);
	return out;
}

static int
demo_quiz(struct db_conn *c, const char *module_id, json_t *quiz)
{
	char id[40], weight[32], attempts[16], pass[32], due[16], pos[24];
	char pts[32], tol[32];
	json_t *q;
	size_t i;
	int rc;

	snprintf(weight, sizeof(weight), "%g", json_number_value(
	    json_object_get(quiz, "weight")));
	snprintf(attempts, sizeof(attempts), "%d", (int)json_integer_value(
	    json_object_get(quiz, "max_attempts")));
	snprintf(pass, sizeof(pass), "%g", json_number_value(
	    json_object_get(quiz, "pass_score")));
	snprintf(due, sizeof(due), "%d", (int)json_integer_value(
	    json_object_get(quiz, "due_days")));
	{
		const char *p[9] = { module_id, json_string_value(
		    json_object_get(quiz, "title")), "quiz", weight, attempts,
		    pass, due, NULL, NULL };

		if ((rc = api_assessment_insert(c, p, id)) != 0)
			return rc;
	}
	json_array_foreach(json_object_get(quiz, "questions"), i, q) {
		json_t *opts = json_object_get(q, "options");
		char *o = json_dumps(opts ? opts : json_array(), JSON_COMPACT);
		char *a = json_dumps(json_object_get(q, "answer"), JSON_COMPACT |
		    JSON_ENCODE_ANY);
		json_t *t = json_object_get(q, "tolerance");
		char *concepts = demo_concepts(q);

		snprintf(pos, sizeof(pos), "%zu", i + 1);
		snprintf(pts, sizeof(pts), "%g", json_number_value(
		    json_object_get(q, "points")));
		snprintf(tol, sizeof(tol), "%g", t ? json_number_value(t) : 0.0);
		{
			const char *p[10] = { id, pos, json_string_value(
			    json_object_get(q, "kind")), json_string_value(
			    json_object_get(q, "prompt")), o, pts, a, tol,
			    concepts, json_string_value(json_object_get(q,
			    "explanation")) };

			rc = api_question_insert(c, p);
		}
		free(o);
		free(a);
		free(concepts);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
demo_exercise(struct db_conn *c, const char *module_id, const char *slug)
{
	char id[40], title[128];
	int rc;

	if ((rc = api_exercise_import_catalog(c, slug, id)) != 0)
		return rc;
	snprintf(title, sizeof(title), "Hands-on: %s", slug);
	{
		const char *p[9] = { module_id, title, "exercise", "2", "10",
		    "60", "14", "30", id };

		return api_assessment_insert(c, p, NULL);
	}
}

/* Create the program from program.json; *program_id receives its id. */
static int
demo_program(struct db_conn *c, json_t *doc, char *program_id)
{
	json_t *mods = json_object_get(doc, "modules"), *m, *l, *keys;
	size_t i, j;
	int rc;

	if ((rc = api_program_insert(c, json_string_value(json_object_get(doc,
	    "title")), json_string_value(json_object_get(doc, "summary")),
	    "published", program_id)) != 0)
		return rc;
	keys = json_object();	/* module key -> id */
	json_array_foreach(mods, i, m) {
		char mid[40];

		if ((rc = api_module_insert(c, program_id, json_string_value(
		    json_object_get(m, "title")), json_string_value(
		    json_object_get(m, "summary")), mid)) != 0)
			goto out;
		json_object_set_new(keys, json_string_value(json_object_get(m,
		    "key")), json_string(mid));
		json_array_foreach(json_object_get(m, "lessons"), j, l) {
			const struct embedded_file *f = demo_file(
			    json_string_value(json_object_get(l, "body_file")));
			char minutes[16], *concepts = demo_concepts(l);

			snprintf(minutes, sizeof(minutes), "%d",
			    (int)json_integer_value(json_object_get(l,
			    "estimated_minutes")));
			rc = api_lesson_insert(c, mid, json_string_value(
			    json_object_get(l, "title")), f ? f->data : "",
			    minutes, concepts);
			free(concepts);
			if (rc != 0)
				goto out;
		}
		if (json_object_get(m, "quiz") != NULL &&
		    (rc = demo_quiz(c, mid, json_object_get(m, "quiz"))) != 0)
			goto out;
		/* One hands-on exercise per module, from the catalog; the
		 * graders verify it after the seed commits. */
		if (json_object_get(m, "exercise") != NULL &&
		    (rc = demo_exercise(c, mid, json_string_value(
		    json_object_get(m, "exercise")))) != 0)
			goto out;
	}
	/* Prerequisites once every module has an id. */
	json_array_foreach(mods, i, m) {
		json_t *pre = json_object_get(m, "prerequisites"), *k;
		json_t *ids = json_array();
		char *list;

		json_array_foreach(pre, j, k)
			json_array_append(ids, json_object_get(keys,
			    json_string_value(k)));
		if (json_array_size(ids) > 0 &&
		    (list = api_uuid_array(ids)) != NULL) {
			rc = api_module_prereq_set(c, json_string_value(
			    json_object_get(keys, json_string_value(
			    json_object_get(m, "key")))), list);
			free(list);
		}
		json_decref(ids);
		if (rc != 0)
			goto out;
	}
	rc = 0;
 out:
	json_decref(keys);
	return rc;
}

int
api_demo_seed(struct db_conn *c, char *password, size_t pwlen, FILE *out)
{
	const struct embedded_file *pf = demo_file("program.json");
	char hash[crypto_pwhash_STRBYTES], program[40], cohort[40], user[40];
	char email[64], name[64];
	json_t *doc = NULL, *rows = NULL;
	PGresult *t = NULL, *u = NULL;
	json_error_t jerr;
	int rc;

	if ((rc = api_tenant_by_slug(c, DEMO_SLUG, user)) != CD_ERR_NOT_FOUND)
		return rc == 0 ? CD_ERR_CONFLICT : rc;	/* seeded before */
	if (pf == NULL || (doc = json_loadb(pf->data, pf->len, 0, &jerr))
	    == NULL) {
		fprintf(out, "demo content does not parse: %s\n", jerr.text);
		return CD_ERR_INTERNAL;
	}
	/* One password for every demo account: it is a demo. */
	auth_token_new(password);
	password[pwlen > 17 ? 16 : pwlen - 1] = '\0';
	if ((rc = auth_password_hash(password, hash)) != 0)
		goto out;
	if ((rc = api_tenant_insert(c, DEMO_SLUG, "Demo Company",
	    "admin@demo.test", "Dana Admin", hash, &t, &u)) != 0)
		goto out;
	if ((rc = demo_program(c, doc, program)) != 0)
		goto out;
	if ((rc = api_user_insert(c, "ivan@demo.test", "Ivan Instructor",
	    "instructor", hash, user)) != 0)
		goto out;
	{
		/* Starts today, runs eight weeks, 30 seats with a waitlist. */
		const char *p[7] = { program, "Leaders, first cohort", NULL, NULL,
		    "UTC", "30", "true" };
		char starts[40], ends[40];
		time_t now = time(NULL);
		struct tm tm;

		gmtime_r(&now, &tm);
		strftime(starts, sizeof(starts), "%Y-%m-%dT00:00:00Z", &tm);
		now += 56 * 86400;
		gmtime_r(&now, &tm);
		strftime(ends, sizeof(ends), "%Y-%m-%dT00:00:00Z", &tm);
		p[2] = starts;
		p[3] = ends;
		if ((rc = api_cohort_insert(c, p, cohort)) != 0)
			goto out;
		{
			char list[48];

			snprintf(list, sizeof(list), "{%s}", user);
			if ((rc = api_cohort_instructors_set(c, cohort, list))
			    != 0)
				goto out;
		}
	}
	rows = json_array();
	for (int i = 1; i <= DEMO_LEARNERS; i++) {
		char uid[40];

		snprintf(email, sizeof(email), "learner%d@demo.test", i);
		snprintf(name, sizeof(name), "Learner %d", i);
		if ((rc = api_user_insert(c, email, name, "learner", hash, uid))
		    != 0)
			goto out;
		json_array_append_new(rows, json_pack("{s:s}", "user_id", uid));
	}
	{
		char *text = json_dumps(rows, JSON_COMPACT);

		rc = api_enroll_rows(c, cohort, text, "demo");
		free(text);
		if (rc != 0)
			goto out;
	}
	fprintf(out, "tenant %s, program \"%s\" (%zu modules), cohort %s\n",
	    DEMO_SLUG, json_string_value(json_object_get(doc, "title")),
	    json_array_size(json_object_get(doc, "modules")), cohort);
 out:
	sodium_memzero(hash, sizeof(hash));
	PQclear(t);
	PQclear(u);
	json_decref(doc);
	json_decref(rows);
	return rc;
}
