/*
 * reports.c - /v1/reports: rosters, seats, gradebooks, completion,
 * engagement, missing work, exercise and quiz analytics, grade changes and
 * the platform's tenant overview.
 *
 * Each report is one named statement, described once in report_defs
 * (what its id names, whether it pages, which parameters follow), so the
 * JSON pages, the CSV exports and the report jobs (report_jobs.c) run the
 * same SQL.  JSON lists page by keyset (?limit, ?cursor): per-learner
 * reports in enrollment order, cutting the page before any submission is
 * read, so a page costs the same in a cohort of 100 or of 10,000.  CSV
 * ("Accept: text/csv" or "?format=csv") is every row, streamed from the
 * database in libpq single-row mode, so a large export never sits whole
 * in memory.  Completion and item analysis are not paged: they have a
 * row per module or question.
 *
 * Seats are held by active and completed enrollments alike (utilisation).
 * Admins see their tenant, instructors their cohorts (cohort_visible),
 * the platform administrator the tenant overview.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../daemon/db.h"
#include "../common/err.h"
#include "api.h"
#include "csv.h"
#include "reports.h"
#include "util.h"

static const struct db_stmt report_stmts[] = {
	{ "report_roster", "SELECT e.id AS enrollment_id, u.id AS user_id, "
	  "u.email, u.name, e.state, CASE WHEN e.state = 'waitlisted' THEN "
	  "(SELECT count(*) FROM enrollments w WHERE w.tenant_id = e.tenant_id "
	  "AND w.cohort_id = e.cohort_id AND w.state = 'waitlisted' AND "
	  "w.waitlist_seq <= e.waitlist_seq)::int END AS waitlist_position, "
	  "rfc3339(e.enrolled_at) AS enrolled_at, e.source, "
	  "rfc3339(e.last_activity_at) AS last_activity_at, e.enrolled_at::text "
	  "AS _k_ts, e.id AS _k_id FROM enrollments e JOIN users u ON "
	  "u.tenant_id = e.tenant_id AND u.id = e.user_id WHERE e.tenant_id = "
	  "current_tenant() AND e.cohort_id = $4 AND (e.enrolled_at, e.id) > "
	  "($1::timestamptz, $2::uuid) ORDER BY e.enrolled_at, e.id LIMIT $3" },
	{ "report_seats", "SELECT c.id AS cohort_id, c.name, c.capacity, "
	  "count(e.id) FILTER (WHERE e.state = 'active')::int AS active, "
	  "count(e.id) FILTER (WHERE e.state = 'waitlisted')::int AS waitlisted, "
	  "count(e.id) FILTER (WHERE e.state = 'withdrawn')::int AS withdrawn, "
	  "count(e.id) FILTER (WHERE e.state = 'completed')::int AS completed, "
	  "CASE WHEN c.capacity > 0 THEN round(count(e.id) FILTER (WHERE "
	  "e.state IN ('active', 'completed'))::numeric / c.capacity, "
	  "3)::float8 END AS utilisation, c.created_at::text AS _k_ts, c.id AS _k_id FROM cohorts c "
	  "LEFT JOIN enrollments e ON e.tenant_id = c.tenant_id AND e.cohort_id "
	  "= c.id WHERE c.tenant_id = current_tenant() AND cohort_visible(c.id, "
	  "$4, $5::uuid) AND (c.created_at, c.id) > ($1::timestamptz, $2::uuid) "
	  "GROUP BY c.tenant_id, c.id ORDER BY c.created_at, c.id LIMIT $3" },
	/* The cohort's assessments in curriculum order. */
	{ "report_assessments", "SELECT a.id, a.title, a.weight FROM "
	  "assessments a JOIN modules m ON m.tenant_id = a.tenant_id AND m.id = "
	  "a.module_id JOIN cohorts c ON c.tenant_id = m.tenant_id AND "
	  "c.program_id = m.program_id WHERE a.tenant_id = current_tenant() AND "
	  "c.id = $1 ORDER BY m.position, a.position, a.id" },
	/* One row per learner not withdrawn (nor waitlisted, unless $5), a
	 * page of them in enrollment order: every assessment's best and
	 * latest graded score, attempts,
	 * lateness, whether the best is provisional (its speedup still to be
	 * measured); the weighted final grade counts what is missing as 0,
	 * and is provisional when a best it counts is.
	 * The page is cut first, then each learner's submissions are read by
	 * index (LATERAL), so rows leave as they are made: an export streams
	 * from its first learner instead of after a sort of all of them. */
	{ "report_gradebook", "WITH a AS MATERIALIZED (SELECT a.id, a.weight "
	  "FROM assessments a JOIN modules m ON m.tenant_id = a.tenant_id AND "
	  "m.id = a.module_id JOIN cohorts c ON c.tenant_id = m.tenant_id AND "
	  "c.program_id = m.program_id WHERE a.tenant_id = current_tenant() AND "
	  "c.id = $4), e AS (SELECT e.id, e.enrolled_at, u.id AS user_id, "
	  "u.email, u.name, e.state FROM enrollments e JOIN users u ON "
	  "u.tenant_id = e.tenant_id AND u.id = e.user_id WHERE e.tenant_id = "
	  "current_tenant() AND e.cohort_id = $4 AND e.state <> 'withdrawn' AND "
	  "(e.state <> 'waitlisted' OR $5::bool) AND "
	  "(e.enrolled_at, e.id) > ($1::timestamptz, $2::uuid) ORDER BY "
	  "e.enrolled_at, e.id LIMIT $3) SELECT e.user_id, e.email, e.name, "
	  "e.state, g.assessments, g.final_grade, g.provisional, "
	  "e.enrolled_at::text AS _k_ts, "
	  "e.id AS _k_id FROM e CROSS JOIN LATERAL (SELECT coalesce("
	  "jsonb_object_agg(a.id, jsonb_build_object('best', round(s.best, 2), "
	  "'latest', round(s.latest, 2), 'attempts', coalesce(s.attempts, 0), "
	  "'late', coalesce(s.late, false), 'provisional', coalesce("
	  "s.provisional, false))), '{}') AS assessments, "
	  "round(coalesce(sum(a.weight * coalesce(s.best, 0)) / "
	  "nullif(sum(a.weight), 0), 0), 2)::float8 AS final_grade, "
	  "coalesce(bool_or(s.provisional), false) AS provisional FROM a LEFT "
	  "JOIN (SELECT s.assessment_id, max(s.final_score) AS best, "
	  "(array_agg(s.final_score ORDER BY s.attempt DESC))[1] AS latest, "
	  "(array_agg(s.provisional ORDER BY s.final_score DESC NULLS LAST, "
	  "s.attempt DESC))[1] AS provisional, "
	  "count(*) AS attempts, bool_or(s.late) AS late FROM submissions s "
	  "WHERE s.tenant_id = current_tenant() AND s.enrollment_id = e.id AND "
	  "s.status = 'graded' GROUP BY s.assessment_id) s ON s.assessment_id = "
	  "a.id) g ORDER BY e.enrolled_at, e.id" },
	/* Per module: share of active and completed learners complete, the
	 * median days from the cohort's start to completion; per lesson:
	 * completions.  Set-based: a module is complete for an enrollment when
	 * its lessons done and assessments passed match the module's counts,
	 * at the later of the last lesson and the last first pass. */
	{ "report_completion", "WITH c AS (SELECT * FROM cohorts WHERE "
	  "tenant_id = current_tenant() AND id = $1), e AS (SELECT e.id FROM "
	  "enrollments e WHERE e.tenant_id = current_tenant() AND e.cohort_id = "
	  "$1 AND e.state IN ('active', 'completed')), m AS (SELECT m.id, "
	  "m.title, m.position FROM modules m JOIN c ON c.program_id = "
	  "m.program_id WHERE m.tenant_id = current_tenant()), lt AS (SELECT "
	  "l.module_id, count(*) AS n FROM lessons l JOIN m ON m.id = l.module_id "
	  "WHERE l.tenant_id = current_tenant() GROUP BY 1), at AS (SELECT "
	  "a.module_id, count(*) AS n FROM assessments a JOIN m ON m.id = "
	  "a.module_id WHERE a.tenant_id = current_tenant() GROUP BY 1), ld AS "
	  "(SELECT lc.enrollment_id, l.module_id, count(*) AS n, "
	  "max(lc.completed_at) AS last FROM lesson_completions lc JOIN e ON "
	  "e.id = lc.enrollment_id JOIN lessons l ON l.tenant_id = lc.tenant_id "
	  "AND l.id = lc.lesson_id WHERE lc.tenant_id = current_tenant() GROUP "
	  "BY 1, 2), fp AS (SELECT s.enrollment_id, a.module_id, min("
	  "s.submitted_at) AS first FROM submissions s JOIN e ON e.id = "
	  "s.enrollment_id JOIN assessments a ON a.tenant_id = s.tenant_id AND "
	  "a.id = s.assessment_id WHERE s.tenant_id = current_tenant() AND "
	  "s.passed GROUP BY s.enrollment_id, a.module_id, s.assessment_id), ad "
	  "AS (SELECT enrollment_id, module_id, count(*) AS n, max(first) AS "
	  "last FROM fp GROUP BY 1, 2), done AS (SELECT m.id AS module_id, "
	  "coalesce(ld.n, 0) = coalesce(lt.n, 0) AND coalesce(ad.n, 0) = "
	  "coalesce(at.n, 0) AS complete, greatest(ld.last, ad.last) AS at FROM "
	  "e CROSS JOIN m LEFT JOIN lt ON lt.module_id = m.id LEFT JOIN at ON "
	  "at.module_id = m.id LEFT JOIN ld ON ld.enrollment_id = e.id AND "
	  "ld.module_id = m.id LEFT JOIN ad ON ad.enrollment_id = e.id AND "
	  "ad.module_id = m.id), lc AS (SELECT lc.lesson_id, count(*) AS n FROM "
	  "lesson_completions lc JOIN e ON e.id = lc.enrollment_id WHERE "
	  "lc.tenant_id = current_tenant() GROUP BY 1) SELECT m.id AS "
	  "module_id, m.title, m.position, (SELECT count(*) FROM e)::int AS "
	  "learners, count(*) FILTER (WHERE d.complete)::int AS complete, CASE "
	  "WHEN (SELECT count(*) FROM e) > 0 THEN round(100.0 * count(*) FILTER "
	  "(WHERE d.complete) / (SELECT count(*) FROM e), 1)::float8 END AS "
	  "percent_complete, round((percentile_cont(0.5) WITHIN GROUP (ORDER BY "
	  "extract(epoch FROM d.at - (SELECT starts_at FROM c)) / 86400) FILTER "
	  "(WHERE d.complete AND d.at IS NOT NULL))::numeric, 2)::float8 AS "
	  "median_days, (SELECT coalesce(jsonb_agg(jsonb_build_object("
	  "'lesson_id', l.id, 'title', l.title, 'completions', coalesce(lc.n, "
	  "0)) ORDER BY l.position), '[]') FROM lessons l LEFT JOIN lc ON "
	  "lc.lesson_id = l.id WHERE l.tenant_id = current_tenant() AND "
	  "l.module_id = m.id) AS lessons FROM m LEFT JOIN done d ON d.module_id "
	  "= m.id GROUP BY m.id, m.title, m.position ORDER BY m.position" },
	/* Active learners' engagement, a page in enrollment order: last
	 * activity, lessons in the last 7 days, and why each is at risk ($5:
	 * days without activity; off_pace: learner_pace() says the minutes
	 * left do not fit the study days left at their daily minutes).  Each learner's submissions are read once,
	 * grouped by assessment (LATERAL), not probed per assessment. */
	{ "report_engagement", "WITH c AS (SELECT * FROM cohorts WHERE "
	  "tenant_id = current_tenant() AND id = $4), e AS MATERIALIZED (SELECT "
	  "e.*, u.email, u.name FROM enrollments e JOIN users u ON u.tenant_id "
	  "= e.tenant_id AND u.id = e.user_id WHERE e.tenant_id = "
	  "current_tenant() AND e.cohort_id = $4 AND e.state = 'active' AND "
	  "(e.enrolled_at, e.id) > ($1::timestamptz, $2::uuid) ORDER BY "
	  "e.enrolled_at, e.id LIMIT $3), a AS MATERIALIZED (SELECT a.id, "
	  "a.due_days FROM assessments a JOIN modules m ON m.tenant_id = "
	  "a.tenant_id AND m.id = a.module_id JOIN c ON c.program_id = "
	  "m.program_id WHERE a.tenant_id = current_tenant()), x AS (SELECT "
	  "e.id, e.user_id, e.email, e.name, e.last_activity_at, (SELECT "
	  "count(*) FROM lesson_completions lc WHERE lc.tenant_id = e.tenant_id "
	  "AND lc.enrollment_id = e.id AND lc.completed_at > now() - interval "
	  "'7 days')::int AS lessons_7d, st.failed, st.overdue, e.enrolled_at "
	  "FROM e CROSS JOIN LATERAL (SELECT count(*) FILTER (WHERE ss.graded "
	  "AND NOT ss.passed)::int AS failed, count(*) FILTER (WHERE "
	  "ss.assessment_id IS NULL AND coalesce(xt.due_at, c.starts_at + "
	  "a.due_days * interval '1 day') < now())::int AS overdue FROM a "
	  "CROSS JOIN c LEFT JOIN (SELECT s.assessment_id, bool_or(s.status = "
	  "'graded') AS graded, coalesce(bool_or(s.passed), false) AS passed "
	  "FROM submissions s WHERE s.tenant_id = e.tenant_id AND "
	  "s.enrollment_id = e.id GROUP BY s.assessment_id) ss ON "
	  "ss.assessment_id = a.id LEFT JOIN extensions xt ON xt.tenant_id = "
	  "current_tenant() AND xt.assessment_id = a.id AND xt.enrollment_id = "
	  "e.id) st) "
	  "SELECT user_id, email, name, rfc3339(last_activity_at) AS "
	  "last_activity_at, "
	  "lessons_7d, failed AS failed_assessments, overdue AS "
	  "overdue_unsubmitted, to_jsonb(array_remove(ARRAY[CASE WHEN "
	  "last_activity_at IS NULL OR last_activity_at < now() - $5::int * "
	  "interval '1 day' THEN 'inactive' END, CASE WHEN failed >= 2 THEN "
	  "'failed_assessments' END, CASE WHEN overdue > 0 THEN "
	  "'past_due_unsubmitted' END, CASE WHEN NOT sk.on_track THEN "
	  "'off_pace' END], NULL)) AS at_risk_reasons, "
	  /* The learner's rhythm (migrations/0015_today.sql). */
	  "sk.current AS streak_current, sk.best AS streak_best, (SELECT "
	  "count(*) FROM review_cards rc WHERE rc.tenant_id = current_tenant() "
	  "AND rc.user_id = x.user_id AND rc.due_at <= now())::int AS "
	  "reviews_due, "
	  "enrolled_at::text AS _k_ts, id AS _k_id FROM x CROSS JOIN LATERAL "
	  "(SELECT s.current, s.best, (SELECT pc.on_track FROM learner_pace("
	  "x.user_id, ls.timezone, ls.study_days, ls.daily_minutes) pc) AS "
	  "on_track FROM learner_settings(x.user_id) ls, "
	  "learner_streak(x.user_id, ls.timezone, ls.study_days) s) sk "
	  "ORDER BY enrolled_at, id" },
	/* Per learner, a page in enrollment order: assessments past due
	 * without a pass, and late work with the penalty applied. */
	{ "report_missing", "WITH c AS (SELECT * FROM cohorts WHERE tenant_id = "
	  "current_tenant() AND id = $4), e AS MATERIALIZED (SELECT e.id, "
	  "e.enrolled_at, e.user_id, u.email, u.name FROM enrollments e JOIN "
	  "users u ON u.tenant_id = e.tenant_id AND u.id = e.user_id WHERE "
	  "e.tenant_id = current_tenant() AND e.cohort_id = $4 AND e.state IN "
	  "('active', 'completed') AND (e.enrolled_at, e.id) > "
	  "($1::timestamptz, $2::uuid) ORDER BY e.enrolled_at, e.id LIMIT $3), "
	  "a AS "
	  "(SELECT a.id, a.title, a.due_days FROM assessments a JOIN modules m "
	  "ON m.tenant_id = a.tenant_id AND m.id = a.module_id JOIN c ON "
	  "c.program_id = m.program_id WHERE a.tenant_id = current_tenant() AND "
	  "a.due_days IS NOT NULL) SELECT e.user_id, e.email, e.name, "
	  "coalesce((SELECT jsonb_agg(jsonb_build_object('assessment_id', a.id, "
	  "'title', a.title, 'due_at', rfc3339(coalesce(xt.due_at, c.starts_at "
	  "+ a.due_days * interval '1 day'))) ORDER BY a.title) FROM a CROSS "
	  "JOIN c LEFT JOIN extensions xt ON xt.tenant_id = current_tenant() AND "
	  "xt.assessment_id = a.id AND xt.enrollment_id = e.id WHERE "
	  "coalesce(xt.due_at, c.starts_at + a.due_days * interval '1 day') < "
	  "now() AND NOT EXISTS (SELECT 1 FROM submissions s WHERE s.tenant_id "
	  "= current_tenant() AND s.enrollment_id = e.id AND s.assessment_id = "
	  "a.id AND s.passed)), '[]') AS missing, coalesce((SELECT "
	  "jsonb_agg(jsonb_build_object('submission_id', s.id, "
	  "'assessment_id', s.assessment_id, 'attempt', s.attempt, 'days_late', "
	  "s.days_late, 'penalty', round(s.penalty, 2), 'score', "
	  "round(s.score, 2), 'final_score', round(s.final_score, 2)) ORDER BY "
	  "s.submitted_at) FROM submissions s WHERE s.tenant_id = "
	  "current_tenant() AND s.enrollment_id = e.id AND s.late), '[]') AS "
	  "late, e.enrolled_at::text AS _k_ts, e.id AS _k_id FROM e ORDER BY "
	  "e.enrolled_at, e.id" },
	/* Quiz items: per question, the share of learners (their best
	 * attempt) right, the discrimination index (share right among the
	 * top 27% of learners by score minus among the bottom 27%, at least
	 * one learner each), and the most chosen wrong option. */
	{ "report_items", "WITH q AS (SELECT id, position, prompt, kind, options "
	  "FROM quiz_questions WHERE tenant_id = current_tenant() AND "
	  "assessment_id = $1), best AS (SELECT DISTINCT ON (s.enrollment_id) "
	  "s.enrollment_id, s.score, s.detail, s.answers FROM submissions s "
	  "WHERE s.tenant_id = current_tenant() AND s.assessment_id = $1 AND "
	  "s.status = 'graded' ORDER BY s.enrollment_id, s.score DESC, "
	  "s.attempt), n AS (SELECT count(*) AS n, greatest(1, ceil(0.27 * "
	  "count(*))) AS k FROM best), ranked AS (SELECT b.*, row_number() OVER "
	  "(ORDER BY b.score, b.enrollment_id) AS rn FROM best b), "
	  "per AS (SELECT q.id, q.position, (d.value->>'correct')::boolean AS "
	  "ok, CASE WHEN r.rn <= (SELECT k FROM n) THEN 'lower' WHEN r.rn > "
	  "(SELECT n - k FROM n) THEN 'upper' END AS grp, r.answers->(q.position "
	  "- 1) AS given FROM q CROSS JOIN "
	  "ranked r CROSS JOIN LATERAL jsonb_array_elements(r.detail) d WHERE "
	  "d.value->>'question_id' = q.id::text) SELECT q.id AS question_id, "
	  "q.position, q.prompt, q.kind, (SELECT n FROM n)::int AS learners, "
	  "round(100.0 * count(*) FILTER (WHERE per.ok) / nullif(count(*), 0), "
	  "1)::float8 AS percent_correct, round((avg(CASE WHEN per.ok THEN 1.0 "
	  "ELSE 0 END) FILTER (WHERE per.grp = 'upper') - avg(CASE WHEN per.ok "
	  "THEN 1.0 ELSE 0 END) FILTER (WHERE per.grp = 'lower')), 3)::float8 AS "
	  "discrimination, (SELECT per2.given FROM per per2 WHERE per2.id = q.id "
	  "AND NOT per2.ok AND per2.given IS NOT NULL AND jsonb_typeof("
	  "per2.given) = 'number' GROUP BY per2.given ORDER BY count(*) DESC, "
	  "per2.given::text LIMIT 1) AS most_chosen_wrong FROM q LEFT JOIN per "
	  "ON per.id = q.id GROUP BY q.id, q.position, q.prompt, q.kind ORDER BY "
	  "q.position" },
	/*
	 * Exercise analytics, for every cohort or one: two statements, since
	 * a generic plan cannot use "($2 IS NULL OR cohort = $2)".  The
	 * speedup distribution is of measured speedups only; provisional
	 * grades are counted apart.
	 */
#define REPORT_EXERCISE(cohort) \
	  "WITH s AS (SELECT s.*, en.cohort_id FROM " \
	  "submissions s JOIN enrollments en ON en.tenant_id = s.tenant_id AND " \
	  "en.id = s.enrollment_id WHERE s.tenant_id = current_tenant() AND " \
	  "s.exercise_id = $1 AND s.status = 'graded' AND " cohort " AND " \
	  "cohort_visible(en.cohort_id, $3, $4::uuid)), " \
	  "t AS (SELECT x.value->>'name' AS name, (x.value->>'passed')::boolean " \
	  "AS passed FROM s CROSS JOIN LATERAL jsonb_array_elements(coalesce(" \
	  "s.result->'tests', '[]')) x), firstpass AS (SELECT enrollment_id, " \
	  "min(attempt) AS attempt FROM s WHERE verdict = 'accepted' GROUP BY 1), " \
	  "sp AS (SELECT (result->'speedup'->>'median')::float8 AS v FROM s " \
	  "WHERE result->'speedup'->>'median' IS NOT NULL AND NOT provisional) " \
	  "SELECT (SELECT " \
	  "count(*) FROM s)::int AS submissions, (SELECT count(DISTINCT " \
	  "enrollment_id) FROM s)::int AS learners, (SELECT count(*) FROM s " \
	  "WHERE provisional)::int AS provisional, (SELECT coalesce(" \
	  "jsonb_object_agg(verdict, n), '{}') FROM (SELECT verdict, count(*) " \
	  "AS n FROM s GROUP BY verdict) v) AS verdicts, (SELECT coalesce(" \
	  "jsonb_agg(jsonb_build_object('name', name, 'runs', n, " \
	  "'pass_rate', rate) ORDER BY name), '[]') FROM (SELECT name, count(*) " \
	  "AS n, round(100.0 * count(*) FILTER (WHERE passed) / count(*), 1) " \
	  "AS rate FROM t GROUP BY name) x) AS tests, (SELECT coalesce(" \
	  "jsonb_object_agg(attempt, n), '{}') FROM (SELECT attempt, count(*) AS " \
	  "n FROM firstpass GROUP BY attempt) f) AS attempts_to_pass, (SELECT " \
	  "percentile_cont(0.5) WITHIN GROUP (ORDER BY attempt) FROM firstpass) " \
	  "AS median_attempts_to_pass, (SELECT jsonb_build_object('median', " \
	  "round((percentile_cont(0.5) WITHIN GROUP (ORDER BY v))::numeric, 3), " \
	  "'buckets', jsonb_build_object('<1.0', count(*) FILTER (WHERE v < 1), " \
	  "'1.0-1.25', count(*) FILTER (WHERE v >= 1 AND v < 1.25), " \
	  "'1.25-1.5', count(*) FILTER (WHERE v >= 1.25 AND v < 1.5), " \
	  "'1.5-1.75', count(*) FILTER (WHERE v >= 1.5 AND v < 1.75), " \
	  "'1.75-2.0', count(*) FILTER (WHERE v >= 1.75 AND v < 2), " \
	  "'>=2.0', count(*) FILTER (WHERE v >= 2))) FROM sp) AS speedup"
	{ "report_exercise", REPORT_EXERCISE("($2::uuid IS NULL)") },
	{ "report_exercise_cohort", REPORT_EXERCISE("en.cohort_id = $2::uuid") },
	{ "report_exercise_exists", "SELECT 1 FROM exercises WHERE tenant_id = "
	  "current_tenant() AND id = $1" },
	{ "report_assessment_visible", "SELECT 1 FROM assessments a JOIN "
	  "modules m ON m.tenant_id = a.tenant_id AND m.id = a.module_id WHERE "
	  "a.tenant_id = current_tenant() AND a.id = $1 AND ($2 = 'admin' OR "
	  "EXISTS (SELECT 1 FROM cohorts c WHERE c.tenant_id = m.tenant_id AND "
	  "c.program_id = m.program_id AND cohort_visible(c.id, $2, $3::uuid)))" },
	/* Regrades (each grade after a submission's first) and extensions:
	 * who, when, before and after.  First the few submissions graded more
	 * than once (one pass over the history), then only their rows get a
	 * previous score, a learner and the regrade's author.  Newest first,
	 * a page at a time: the key is the time and the submission (or, for
	 * an extension, a uuid made of its enrollment and assessment). */
	{ "report_grade_changes", "WITH multi AS MATERIALIZED (SELECT "
	  "submission_id FROM grade_history WHERE tenant_id = current_tenant() "
	  "GROUP BY submission_id HAVING count(*) > 1), h AS MATERIALIZED "
	  "(SELECT h.*, lag(h.final_score) OVER (PARTITION BY h.submission_id "
	  "ORDER BY h.graded_at) AS prev, row_number() OVER (PARTITION BY "
	  "h.submission_id ORDER BY h.graded_at) AS n FROM grade_history h JOIN "
	  "multi USING (submission_id) WHERE h.tenant_id = current_tenant()) "
	  "SELECT *, _at::text AS _k_ts FROM (SELECT 'regrade' AS kind, h.submission_id::text AS "
	  "object_id, s.user_id AS learner_id, s.assessment_id, "
	  "rfc3339(h.graded_at) AS at, h.graded_at AS _at, h.submission_id AS "
	  "_k_id, (SELECT ae.actor_id "
	  "FROM audit_events ae WHERE ae.tenant_id = h.tenant_id AND "
	  "ae.object_type = 'assessment' AND ae.object_id = "
	  "s.assessment_id::text AND ae.action LIKE '%/regrade' AND ae.at <= "
	  "h.graded_at ORDER BY ae.at DESC LIMIT 1) AS by_user, "
	  "round(h.prev, 2)::text AS old_value, round(h.final_score, 2)::text AS "
	  "new_value FROM h JOIN submissions s ON s.tenant_id = h.tenant_id AND "
	  "s.id = h.submission_id JOIN enrollments en ON en.tenant_id = "
	  "s.tenant_id AND en.id = s.enrollment_id WHERE h.n > 1 AND "
	  "cohort_visible(en.cohort_id, $4, $5::uuid) UNION ALL SELECT "
	  "'extension', x.enrollment_id::text, en.user_id, x.assessment_id, "
	  "rfc3339(x.granted_at), x.granted_at, md5(x.enrollment_id::text || "
	  "x.assessment_id::text)::uuid, x.granted_by, NULL, "
	  "coalesce(rfc3339(x.due_at), '') || CASE WHEN x.extra_attempts > 0 "
	  "THEN ' +' || x.extra_attempts || ' attempts' ELSE '' END FROM "
	  "extensions x JOIN enrollments en ON en.tenant_id = x.tenant_id AND "
	  "en.id = x.enrollment_id WHERE x.tenant_id = current_tenant() AND "
	  "cohort_visible(en.cohort_id, $4, $5::uuid)) g WHERE (_at, _k_id) < "
	  "($1::timestamptz, $2::uuid) ORDER BY _at DESC, _k_id DESC LIMIT $3" },
	{ "report_tenants", "SELECT tenant_id, slug, name, users::int, "
	  "cohorts::int, active_learners::int, submissions_30d::int, "
	  "queue_depth::int, created_at::text AS _k_ts, tenant_id AS _k_id "
	  "FROM tenant_overview($1::timestamptz, $2::uuid, $3::int)" },
};

void
api_reports_init(void)
{
	db_register(report_stmts, sizeof(report_stmts) / sizeof(*report_stmts));
}

/* ---- the reports, by name ---------------------------------------------- */

/* The parameters: [bounds] [subject] [waitlisted] [days] [cohort filter]
 * [role user]. */
static const struct report_def report_defs[] = {
	{ "roster",	   "report_roster",	   REPORT_ON_COHORT, RF_PAGED },
	{ "seats",	   "report_seats",	   REPORT_ON_TENANT,
	  RF_PAGED | RF_WHO },
	{ "gradebook",	   "report_gradebook",	   REPORT_ON_COHORT,
	  RF_PAGED | RF_WAITLIST },
	{ "completion",	   "report_completion",	   REPORT_ON_COHORT, 0 },
	{ "engagement",	   "report_engagement",	   REPORT_ON_COHORT,
	  RF_PAGED | RF_DAYS },
	{ "missing",	   "report_missing",	   REPORT_ON_COHORT, RF_PAGED },
	{ "exercise",	   "report_exercise",	   REPORT_ON_EXERCISE,
	  RF_FILTER | RF_WHO | RF_SINGLE },
	{ "items",	   "report_items",	   REPORT_ON_ASSESSMENT, 0 },
	{ "grade_changes", "report_grade_changes", REPORT_ON_TENANT,
	  RF_PAGED | RF_DESC | RF_WHO },
	{ "tenants",	   "report_tenants",	   REPORT_ON_PLATFORM, RF_PAGED },
};

const struct report_def *
report_find(const char *name)
{
	for (size_t i = 0; name != NULL &&
	    i < sizeof(report_defs) / sizeof(*report_defs); i++)
		if (strcmp(report_defs[i].name, name) == 0)
			return &report_defs[i];
	return NULL;
}

const char *
report_check(const struct report_req *q)
{
	char *end;

	if (q->days != NULL && (strtol(q->days, &end, 10) < 1 || *end != '\0' ||
	    strtol(q->days, NULL, 10) > 365))
		return "inactive_days must be a whole number from 1 to 365";
	if (q->cohort != NULL && !api_uuid_ok(q->cohort))
		return "cohort_id is not an id";
	if (q->include != NULL && strcmp(q->include, "waitlisted") != 0)
		return "include must be waitlisted";
	return NULL;
}

/* The statement q runs: exercise analytics has one per filter. */
static const char *
report_stmt(const struct report_req *q)
{
	if ((q->def->flags & RF_FILTER) && q->cohort != NULL)
		return "report_exercise_cohort";
	return q->def->stmt;
}

/*
 * q's parameters into p (room for 8); with bounds (after key, after id,
 * limit) first when the report pages and bounds is not NULL.
 */
static int
report_argv(const struct report_req *q, const char *const *bounds,
    const char **p)
{
	int n = 0;

	if ((q->def->flags & RF_PAGED) && bounds != NULL)
		for (int i = 0; i < 3; i++)
			p[n++] = bounds[i];
	if (q->def->on != REPORT_ON_TENANT && q->def->on != REPORT_ON_PLATFORM)
		p[n++] = q->id;
	if (q->def->flags & RF_WAITLIST)
		p[n++] = q->include != NULL ? "true" : "false";
	if (q->def->flags & RF_DAYS)
		p[n++] = q->days ? q->days : "7";
	if (q->def->flags & RF_FILTER)
		p[n++] = q->cohort;
	if (q->def->flags & RF_WHO) {
		p[n++] = q->role;
		p[n++] = q->user;
	}
	return n;
}

/* Bounds that take every row, in the report's order. */
static const char *const *
report_all_rows(const struct report_req *q)
{
	static const char *const up[3] = { "-infinity",
	    "00000000-0000-0000-0000-000000000000", "2000000000" };
	static const char *const down[3] = { "infinity",
	    "ffffffff-ffff-ffff-ffff-ffffffffffff", "2000000000" };

	return q->def->flags & RF_DESC ? down : up;
}

int
report_visible(struct db_conn *db, const struct report_req *q)
{
	const char *p[3] = { q->id, q->role, q->user };
	const char *stmt;
	PGresult *res;
	int ok;

	switch (q->def->on) {
	case REPORT_ON_COHORT:
		return api_cohort_visible_to(db, q->id, q->role, q->user);
	case REPORT_ON_EXERCISE:
		stmt = "report_exercise_exists";
		break;
	case REPORT_ON_ASSESSMENT:
		stmt = "report_assessment_visible";
		break;
	default:
		return 0;
	}
	if (!api_uuid_ok(q->id))
		return CD_ERR_NOT_FOUND;
	if ((res = db_exec(db, stmt, q->def->on == REPORT_ON_EXERCISE ? 1 : 3,
	    p)) == NULL)
		return CD_ERR_DATABASE;
	ok = PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] != 'f';
	PQclear(res);
	return ok ? 0 : CD_ERR_NOT_FOUND;
}

/* ---- rendering ------------------------------------------------------------ */

/* Does the caller want CSV? */
static int
want_csv(struct http_req *r)
{
	const char *f = http_query(r, "format"), *a = http_header(r, "Accept");

	if (f != NULL)
		return strcmp(f, "csv") == 0;
	return a != NULL && strncasecmp(a, "text/csv", 8) == 0;
}

/*
 * db_row_fn: every column not starting with '_'.  Numbers as the
 * database formats them; booleans as true and false, as in JSON; the rest
 * is text, neutralised (csv_put_text).
 */
static int
csv_row(void *arg, PGresult *row, char **buf, size_t *len, size_t *cap)
{
	int first = 1, rc;

	(void)arg;
	for (int c = 0; c < PQnfields(row); c++) {
		const char *v = PQgetisnull(row, 0, c) ? "" :
		    PQgetvalue(row, 0, c);

		if (PQfname(row, c)[0] == '_')
			continue;
		switch (PQgetisnull(row, 0, c) ? API_KIND_TEXT :
		    api_col_kind(row, c)) {
		case API_KIND_BOOL:
			rc = csv_put_text(buf, len, cap, v[0] == 't' ?
			    "true" : "false", first);
			break;
		case API_KIND_NUMBER:
			rc = csv_put_number(buf, len, cap, v, first);
			break;
		default:
			rc = csv_put_text(buf, len, cap, v, first);
		}
		if (rc != 0)
			return rc;
		first = 0;
	}
	return csv_put_eol(buf, len, cap);
}

/* The CSV header: the statement's visible column names. */
static char *
csv_header(struct db_conn *db, const char *stmt)
{
	PGresult *d = PQdescribePrepared(db_pg(db), stmt);
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int first = 1, rc = 0;

	for (int c = 0; d != NULL && c < PQnfields(d) && rc == 0; c++) {
		if (PQfname(d, c)[0] == '_')
			continue;
		rc = csv_put_text(&buf, &len, &cap, PQfname(d, c), first);
		first = 0;
	}
	PQclear(d);
	if (buf != NULL && (rc != 0 || csv_put_eol(&buf, &len, &cap) != 0)) {
		free(buf);
		buf = NULL;
	}
	return buf;
}

/* The gradebook's CSV: one column per assessment (its best score). */
struct gradebook_csv {
	int	  n;
	char	**ids;
};

static void
gradebook_free(void *arg)
{
	struct gradebook_csv *g = arg;

	if (g == NULL)
		return;
	for (int i = 0; i < g->n; i++)
		free(g->ids[i]);
	free(g->ids);
	free(g);
}

/* A score as the gradebook's CSV writes every one: two decimals (empty
 * when there is none). */
static int
gradebook_score(char **buf, size_t *len, size_t *cap, int have, double v)
{
	char num[32] = "";

	if (have)
		snprintf(num, sizeof(num), "%.2f", v);
	return csv_put_number(buf, len, cap, num, 0);
}

static int
gradebook_row(void *arg, PGresult *row, char **buf, size_t *len, size_t *cap)
{
	struct gradebook_csv *g = arg;
	json_t *a = json_loads(PQgetvalue(row, 0, 4), 0, NULL);
	int rc = 0;

	for (int c = 1; c <= 3 && rc == 0; c++)
		rc = csv_put_text(buf, len, cap, PQgetvalue(row, 0, c), c == 1);
	for (int i = 0; i < g->n && rc == 0; i++) {
		json_t *best = json_object_get(json_object_get(a, g->ids[i]),
		    "best");

		rc = gradebook_score(buf, len, cap, json_is_number(best),
		    json_number_value(best));
	}
	if (rc == 0)
		rc = gradebook_score(buf, len, cap, !PQgetisnull(row, 0, 5),
		    strtod(PQgetvalue(row, 0, 5), NULL));
	if (rc == 0)
		rc = csv_put_text(buf, len, cap, strcmp(PQgetvalue(row, 0, 6),
		    "t") ? "false" : "true", 0);
	if (rc == 0)
		rc = csv_put_eol(buf, len, cap);
	json_decref(a);
	return rc;
}

/*
 * The cohort's assessments, in curriculum order: for CSV (g and head
 * set: the assessment ids and the header line) or JSON (*cols set).
 */
static int
gradebook_columns(struct db_conn *db, const char *cohort,
    struct gradebook_csv **g, char **head, json_t **cols)
{
	const char *p[1] = { cohort };
	PGresult *res;
	size_t len = 0, cap = 0;
	int rc = CD_ERR_INTERNAL;

	if ((res = db_exec(db, "report_assessments", 1, p)) == NULL)
		return CD_ERR_DATABASE;
	if (cols != NULL) {
		*cols = api_rows(res);
		PQclear(res);
		return 0;
	}
	*head = NULL;
	if ((*g = calloc(1, sizeof(**g))) == NULL ||
	    ((*g)->ids = calloc((size_t)PQntuples(res) + 1, sizeof(char *)))
	    == NULL) {
		rc = CD_ERR_NOMEM;
		goto out;
	}
	if ((rc = csv_put_text(head, &len, &cap, "email", 1)) != 0 ||
	    (rc = csv_put_text(head, &len, &cap, "name", 0)) != 0 ||
	    (rc = csv_put_text(head, &len, &cap, "state", 0)) != 0)
		goto out;
	for (int i = 0; i < PQntuples(res); i++) {
		if (((*g)->ids[(*g)->n] = strdup(PQgetvalue(res, i, 0))) == NULL) {
			rc = CD_ERR_NOMEM;
			goto out;
		}
		(*g)->n++;
		/* A title is the instructor's text: neutralised too. */
		if ((rc = csv_put_text(head, &len, &cap, PQgetvalue(res, i, 1),
		    0)) != 0)
			goto out;
	}
	if ((rc = csv_put_text(head, &len, &cap, "final_grade", 0)) == 0 &&
	    (rc = csv_put_text(head, &len, &cap, "provisional", 0)) == 0)
		rc = csv_put_eol(head, &len, &cap);
 out:
	PQclear(res);
	if (rc != 0) {
		gradebook_free(*g);
		*g = NULL;
		free(*head);
		*head = NULL;
		return CD_ERR_NOMEM;
	}
	return 0;
}

/* db_row_fn for whole JSON lists: each row an object, comma-separated. */
static int
json_row(void *arg, PGresult *row, char **buf, size_t *len, size_t *cap)
{
	int *first = arg;
	json_t *o = api_row(row, 0);
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	int rc = CD_ERR_NOMEM;

	if (s != NULL && (*first || api_buf_put(buf, len, cap, ",", 1) == 0))
		rc = api_buf_put(buf, len, cap, s, strlen(s));
	*first = 0;
	free(s);
	json_decref(o);
	return rc;
}

/*
 * A report's row renderer and what goes before the rows: for CSV the
 * header line (and, for the gradebook, its columns); for JSON the opening
 * of the body, which report_tail closes.
 */
static int
report_prepare(struct db_conn *db, const struct report_req *q, int csv,
    char **head, db_row_fn *fn, void **arg, void (**free_arg)(void *))
{
	int gradebook = strcmp(q->def->name, "gradebook") == 0, rc;

	*head = NULL;
	*arg = NULL;
	*free_arg = NULL;
	if (csv && gradebook) {
		*fn = gradebook_row;
		*free_arg = gradebook_free;
		return gradebook_columns(db, q->id,
		    (struct gradebook_csv **)arg, head, NULL);
	}
	if (csv) {
		*fn = csv_row;
		return (*head = csv_header(db, report_stmt(q))) ? 0 :
		    CD_ERR_DATABASE;
	}
	*fn = json_row;
	*free_arg = free;
	if ((*arg = calloc(1, sizeof(int))) == NULL)
		return CD_ERR_NOMEM;
	*(int *)*arg = 1;
	if (q->def->flags & RF_SINGLE)
		return (*head = strdup("")) ? 0 : CD_ERR_NOMEM;
	if (gradebook) {
		json_t *cols;
		char *s;

		if ((rc = gradebook_columns(db, q->id, NULL, NULL, &cols)) != 0)
			return rc;
		s = json_dumps(cols, JSON_COMPACT);
		json_decref(cols);
		if (s == NULL || asprintf(head, "{\"assessments\":%s,"
		    "\"items\":[", s) < 0)
			*head = NULL;
		free(s);
		return *head ? 0 : CD_ERR_NOMEM;
	}
	return (*head = strdup("{\"items\":[")) ? 0 : CD_ERR_NOMEM;
}

static const char *
report_tail(const struct report_req *q, int csv)
{
	return csv || (q->def->flags & RF_SINGLE) ? "" : "]}";
}

/* Open a cursor over every row of q, each rendered by fn. */
static int
report_send(struct db_conn *db, const struct report_req *q, db_row_fn fn,
    void *arg, struct db_cursor **cur)
{
	const char *p[8];
	int n = report_argv(q, report_all_rows(q), p);

	*cur = NULL;
	/* The rows go out at the client's pace, not the database's. */
	if (db_no_statement_timeout(db) != 0)
		return CD_ERR_DATABASE;
	return db_cursor_open(db, report_stmt(q), n, p, fn, arg, cur);
}

int
report_render(struct db_conn *db, const struct report_req *q, int csv,
    report_out_fn out, void *out_arg, long *nrows, char *err, size_t errlen)
{
	db_row_fn fn;
	void *arg;
	void (*free_arg)(void *);
	struct db_cursor *cur = NULL;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	const char *tail = report_tail(q, csv);
	int rc;

	*nrows = 0;
	snprintf(err, errlen, "%s", "");
	if ((rc = report_prepare(db, q, csv, &buf, &fn, &arg, &free_arg)) != 0)
		goto out;
	len = cap = strlen(buf);
	if ((rc = report_send(db, q, fn, arg, &cur)) != 0)
		goto out;
	/* Hand out whole rows in pieces. */
	while ((rc = db_cursor_fill(cur, &buf, &len, &cap, REPORT_PIECE)) > 0) {
		if ((rc = out(out_arg, buf, len)) != 0)
			break;
		len = 0;
	}
	*nrows = db_cursor_count(cur);
	snprintf(err, errlen, "%s", db_cursor_error(cur));
	if (rc == 0 && (rc = api_buf_put(&buf, &len, &cap, tail,
	    strlen(tail))) == 0)
		rc = out(out_arg, buf, len);
 out:
	db_cursor_free(cur);
	if (free_arg != NULL)
		free_arg(arg);
	free(buf);
	return rc;
}

/* ---- over HTTP ------------------------------------------------------------ */

/*
 * Name the download: the report and the day (UTC) it was taken, for
 * example gradebook-2026-03-01.csv, so the saved file says what it holds.
 */
static void
report_disposition(struct http_req *r, const struct report_req *q)
{
	char disp[96], day[16];
	time_t now = time(NULL);
	struct tm tm;

	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(day, sizeof(day), "%Y-%m-%d", &tm) == 0)
		snprintf(day, sizeof(day), "export");
	snprintf(disp, sizeof(disp), "attachment; filename=\"%s-%s.csv\"",
	    q->def->name, day);
	http_add_header(r, "Content-Disposition", disp);
}

/* Stream every row of q as CSV. */
static int
report_csv(struct http_req *r, const struct report_req *q)
{
	db_row_fn fn;
	void *arg;
	void (*free_arg)(void *);
	struct db_cursor *cur;
	char *head;
	int rc;

	if ((rc = report_prepare(r->db, q, 1, &head, &fn, &arg,
	    &free_arg)) != 0 || (rc = report_send(r->db, q, fn, arg,
	    &cur)) != 0) {
		free(head);
		if (free_arg != NULL)
			free_arg(arg);
		return rc;
	}
	report_disposition(r, q);
	return http_stream_rows(r, "text/csv; charset=utf-8", head, cur, arg,
	    free_arg);
}

/* A page of the gradebook: the page of learners, and every assessment. */
static int
report_gradebook_page(struct http_req *r, const struct report_req *q)
{
	struct api_page pg;
	const char *p[8];
	json_t *cols, *body;
	PGresult *res;
	int n, rc;

	if (api_page_parse(r, &pg) != 0)
		return 0;
	{
		const char *b[3] = { pg.after_ts, pg.after_id,
		    pg.limit_plus_one };

		n = report_argv(q, b, p);
	}
	if ((rc = gradebook_columns(r->db, q->id, NULL, NULL, &cols)) != 0)
		return rc;
	if ((res = db_exec(r->db, q->def->stmt, n, p)) == NULL) {
		json_decref(cols);
		return api_page_failed(r);
	}
	body = api_page_body(r, &pg, res, NULL);
	PQclear(res);
	json_object_set_new(body, "assessments", cols);
	return http_json(r, 200, body);
}

/* Every row of an unpaged list as {"items": [...], "next_cursor": null}. */
static int
report_list(struct http_req *r, const struct report_req *q)
{
	const char *p[8];
	int n = report_argv(q, NULL, p), rc;
	PGresult *res;

	if ((res = db_exec(r->db, report_stmt(q), n, p)) == NULL)
		return CD_ERR_DATABASE;
	rc = api_render_list(r, res);
	PQclear(res);
	return rc;
}

/* One report over HTTP: JSON pages, or CSV streamed whole. */
static int
report_serve(struct http_req *r, const char *name)
{
	struct report_req q;
	const char *p[8], *why;
	int n, rc;

	memset(&q, 0, sizeof(q));
	q.def = report_find(name);
	q.id = q.def->on == REPORT_ON_TENANT || q.def->on == REPORT_ON_PLATFORM ?
	    NULL : r->params[0];
	q.days = q.def->flags & RF_DAYS ? http_query(r, "inactive_days") : NULL;
	q.include = q.def->flags & RF_WAITLIST ? http_query(r, "include") : NULL;
	q.cohort = q.def->flags & RF_FILTER ? http_query(r, "cohort_id") : NULL;
	q.role = api_role(r);
	q.user = api_user(r);
	if ((why = report_check(&q)) != NULL)
		return http_problem(r, 422, "validation", "Unprocessable Content",
		    "%s", why);
	if ((rc = report_visible(r->db, &q)) != 0)
		return rc;
	if (want_csv(r))
		return report_csv(r, &q);
	if (strcmp(name, "gradebook") == 0)
		return report_gradebook_page(r, &q);
	if (!(q.def->flags & RF_PAGED) && !(q.def->flags & RF_SINGLE))
		return report_list(r, &q);
	n = report_argv(&q, NULL, p);
	if (q.def->flags & RF_SINGLE)
		return api_exec_one(r, report_stmt(&q), n, p, 200);
	if (q.def->flags & RF_DESC)
		return api_page_exec_desc(r, q.def->stmt, n, p);
	return api_page_exec(r, q.def->stmt, n, p);
}

int
api_report_roster(struct http_req *r)
{
	return report_serve(r, "roster");
}

int
api_report_seats(struct http_req *r)
{
	return report_serve(r, "seats");
}

int
api_report_gradebook(struct http_req *r)
{
	return report_serve(r, "gradebook");
}

int
api_report_completion(struct http_req *r)
{
	return report_serve(r, "completion");
}

int
api_report_engagement(struct http_req *r)
{
	return report_serve(r, "engagement");
}

int
api_report_missing(struct http_req *r)
{
	return report_serve(r, "missing");
}

int
api_report_items(struct http_req *r)
{
	return report_serve(r, "items");
}

int
api_report_exercise(struct http_req *r)
{
	return report_serve(r, "exercise");
}

int
api_report_grade_changes(struct http_req *r)
{
	return report_serve(r, "grade_changes");
}

int
api_report_tenants(struct http_req *r)
{
	return report_serve(r, "tenants");
}
