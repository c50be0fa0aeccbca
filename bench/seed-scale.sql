-- bench/seed-scale.sql - one tenant at scale, for the reports benchmark.
--
--   psql -v tenant_slug=scale -f bench/seed-scale.sql DATABASE_URL
--
-- Run against a migrated cohortd database.  Attaches to the tenant with
-- that slug (created through the API, so its admin can log in) or creates
-- it.  Builds, set-based (no per-row round trips):
--   10,000 learners, 3 extra admins, 30 instructors;
--   1 published program: 10 modules x (3 lessons + 5 assessments: 4 quizzes
--     of 4 questions and 1 C exercise), weights and due days varied;
--   100 cohorts of 100 learners (each learner in one), start dates spread
--     over the last 16 months, one instructor each; states mostly active,
--     completed where the cohort has ended, some withdrawn and a FIFO
--     waitlist (capacity = seats held); plus one self-paced cohort holding
--     all 10,000 learners (the 10,000-row gradebook and roster);
--   lesson completions following each learner's progress;
--   exactly :submissions (default 1,000,000) graded submissions: attempts
--     1..n per (assessment, enrollment), quiz detail per question, lateness
--     and penalties from the cohort's policy, exercise verdicts and results;
--   grade history (with a regrade), done grading jobs, extensions.
-- Options: -v submissions=N.  Refuses to seed a tenant twice.
\set ON_ERROR_STOP on
\if :{?tenant_slug}
\else
\set tenant_slug scale
\endif
\if :{?submissions}
\else
\set submissions 1000000
\endif
\pset footer off
SET client_min_messages = warning;
SET synchronous_commit = off;
SET work_mem = '128MB';
SET maintenance_work_mem = '512MB';
SET timezone = 'UTC';
SET temp_buffers = '512MB';
SELECT setseed(0.20240607) \g /dev/null

SELECT rolsuper AS is_super FROM pg_roles WHERE rolname = current_user \gset
\if :is_super
-- Loading as the superuser: skip foreign-key and version-bump triggers.
-- Every reference below is built from rows inserted in this script.
SET session_replication_role = replica;
\endif

BEGIN;
SELECT set_config('cohortd.scope', 'platform', true) \g /dev/null
INSERT INTO tenants (slug, name) VALUES (:'tenant_slug', 'Scale University')
	ON CONFLICT (slug) DO NOTHING;
SELECT id AS tid FROM tenants WHERE slug = :'tenant_slug' \gset
-- Row-level security is forced, even for the owner: scope to the tenant.
SELECT set_config('cohortd.tenant_id', :'tid', true) \g /dev/null
DO $$
BEGIN
	IF EXISTS (SELECT 1 FROM programs WHERE tenant_id = current_tenant()
	    AND title = 'Scale: Concurrent Systems') THEN
		RAISE EXCEPTION 'tenant % is already seeded', current_tenant();
	END IF;
END
$$;
SELECT set_config('seed.submissions', :'submissions', true) \g /dev/null

-- ---- people ---------------------------------------------------------------
CREATE TEMP TABLE s_user ON COMMIT DROP AS
SELECT g AS n, gen_random_uuid() AS id, 'learner'::text AS role,
       format('learner%s@scale.test', lpad(g::text, 5, '0')) AS email,
       format('Learner %s', g) AS name
  FROM generate_series(1, 10000) g
UNION ALL
SELECT 20000 + g, gen_random_uuid(), 'instructor',
       format('instructor%s@scale.test', lpad(g::text, 2, '0')),
       format('Instructor %s', g)
  FROM generate_series(1, 30) g
UNION ALL
SELECT 30000 + g, gen_random_uuid(), 'admin',
       format('ops%s@scale.test', g), format('Operations %s', g)
  FROM generate_series(1, 3) g;
CREATE UNIQUE INDEX ON s_user (n);

INSERT INTO users (tenant_id, id, email, name, role, created_at, updated_at)
SELECT :'tid', id, email, name, role,
       now() - interval '500 days' + n * interval '1 second',
       now() - interval '500 days' + n * interval '1 second'
  FROM s_user;

-- ---- curriculum -----------------------------------------------------------
SELECT gen_random_uuid() AS pid \gset
INSERT INTO programs (tenant_id, id, title, summary, status, created_at)
VALUES (:'tid', :'pid', 'Scale: Concurrent Systems',
        'Ten modules of lessons, quizzes and graded C exercises.', 'published',
        now() - interval '520 days');

CREATE TEMP TABLE s_module ON COMMIT DROP AS
SELECT m AS n, gen_random_uuid() AS id FROM generate_series(1, 10) m;
INSERT INTO modules (tenant_id, id, program_id, title, summary, position)
SELECT :'tid', id, :'pid', format('Module %s', n),
       format('What module %s covers.', n), n
  FROM s_module;

INSERT INTO lessons (tenant_id, id, module_id, title, body, estimated_minutes,
                     position)
SELECT :'tid', gen_random_uuid(), m.id, format('Lesson %s.%s', m.n, l),
       repeat(format('Text of lesson %s.%s. ', m.n, l), 40),
       10 + (m.n * 7 + l * 5) % 21, l
  FROM s_module m CROSS JOIN generate_series(1, 3) l;
CREATE TEMP TABLE s_lesson ON COMMIT DROP AS
SELECT (m.n - 1) * 3 + l.position AS n, l.id
  FROM lessons l JOIN s_module m ON m.id = l.module_id
 WHERE l.tenant_id = :'tid';

CREATE TEMP TABLE s_exercise ON COMMIT DROP AS
SELECT m AS n, gen_random_uuid() AS id FROM generate_series(1, 10) m;
INSERT INTO exercises (tenant_id, id, slug, current_version, created_at)
SELECT :'tid', id, format('scale-exercise-%s', n), 1,
       now() - interval '520 days' FROM s_exercise;
INSERT INTO exercise_versions (tenant_id, exercise_id, version, title,
                               statement, files, spec, status, verification,
                               created_at)
SELECT :'tid', id, 1, format('Exercise %s', n),
       'Make the counter thread-safe and fast.',
       jsonb_build_object('exercise.h', '#include <stddef.h>',
                          'harness.c', '/* harness */',
                          'reference.c', '/* reference */',
                          'starter.c', '/* starter */'),
       jsonb_build_object('tests', jsonb_build_array('basic', 'empty',
                          'many', 'concurrent'), 'scoring',
                          jsonb_build_object('correctness', 70, 'speedup', 30)),
       'ready', '{"verdict": "accepted", "score": 100}',
       now() - interval '520 days'
  FROM s_exercise;

-- Assessment k = 1..50 in curriculum order: positions 1-4 quizzes, 5 the
-- module's exercise.  Due every two days; weights 1, 1.5, 2 (quizzes), 3.
CREATE TEMP TABLE s_asmt ON COMMIT DROP AS
SELECT (m.n - 1) * 5 + p AS k, gen_random_uuid() AS id, m.id AS module_id,
       m.n AS module_n, p AS position,
       CASE WHEN p = 5 THEN 'exercise' ELSE 'quiz' END AS kind,
       CASE WHEN p = 5 THEN 3 ELSE 1 + ((m.n + p) % 3) * 0.5 END AS weight,
       2 * ((m.n - 1) * 5 + p) AS due_days,
       CASE WHEN p = 5 THEN x.id END AS exercise_id
  FROM s_module m CROSS JOIN generate_series(1, 5) p
  JOIN s_exercise x ON x.n = m.n;
CREATE UNIQUE INDEX ON s_asmt (k);
INSERT INTO assessments (tenant_id, id, module_id, title, kind, weight,
                         max_attempts, pass_score, due_days,
                         estimated_minutes, position, exercise_id)
SELECT :'tid', id, module_id,
       CASE WHEN kind = 'quiz' THEN format('Quiz %s.%s', module_n, position)
            ELSE format('Exercise %s', module_n) END,
       kind, weight, CASE WHEN kind = 'quiz' THEN 3 ELSE 5 END, 70, due_days,
       CASE WHEN kind = 'quiz' THEN 10 ELSE 60 END, position, exercise_id
  FROM s_asmt;

-- Questions 1-3 single choice (1 point), 4 true/false (2 points); each
-- with its own difficulty p (chance a typical learner gets it right).
CREATE TEMP TABLE s_question ON COMMIT DROP AS
SELECT a.k, q, gen_random_uuid() AS id,
       CASE WHEN q = 4 THEN 'true_false' ELSE 'single_choice' END AS kind,
       CASE WHEN q = 4 THEN 2 ELSE 1 END AS points,
       CASE WHEN q = 4 THEN 'true'::jsonb ELSE to_jsonb((a.k + q) % 4) END
           AS answer,
       0.45 + ((a.k * 7 + q * 13) % 10) * 0.05 AS p
  FROM s_asmt a CROSS JOIN generate_series(1, 4) q
 WHERE a.kind = 'quiz';
INSERT INTO quiz_questions (tenant_id, id, assessment_id, position, kind,
                            prompt, options, points, answer)
SELECT :'tid', q.id, a.id, q.q, q.kind,
       format('Question %s of quiz %s?', q.q, a.k),
       CASE WHEN q.kind = 'true_false' THEN '[]'::jsonb
            ELSE '["first", "second", "third", "fourth"]'::jsonb END,
       q.points, q.answer
  FROM s_question q JOIN s_asmt a ON a.k = q.k;

-- Every outcome of a quiz: bit q-1 of pat set when question q is right.
-- detail and answers exactly as the daemon records them.
CREATE TEMP TABLE s_quizpat ON COMMIT DROP AS
SELECT a.k, pat,
       100.0 * sum(CASE WHEN pat & (1 << (q.q - 1)) <> 0 THEN q.points
                   ELSE 0 END) / sum(q.points) AS score,
       jsonb_agg(jsonb_build_object('question_id', q.id,
           'correct', pat & (1 << (q.q - 1)) <> 0,
           'points', CASE WHEN pat & (1 << (q.q - 1)) <> 0 THEN q.points
                     ELSE 0 END, 'max_points', q.points) ORDER BY q.q)
           AS detail,
       jsonb_agg(CASE WHEN pat & (1 << (q.q - 1)) <> 0 THEN q.answer
                      WHEN q.kind = 'true_false' THEN 'false'::jsonb
                      ELSE to_jsonb(((q.answer #>> '{}')::int + 1 + pat % 3
                           + (q.q % 2)) % 4) END ORDER BY q.q) AS answers
  FROM s_asmt a JOIN s_question q ON q.k = a.k
 CROSS JOIN generate_series(0, 15) pat
 GROUP BY a.k, pat;
CREATE UNIQUE INDEX ON s_quizpat (k, pat);

-- Outcomes of an exercise: variants 0-3 accepted, 4-7 not.
CREATE TEMP TABLE s_exres ON COMMIT DROP AS
SELECT v, verdict, score,
       jsonb_build_object('verdict', verdict, 'score', score,
           'score_breakdown', jsonb_build_object('correctness',
               least(score, 70), 'speedup', greatest(score - 70, 0)),
           'compile', jsonb_build_object('ok', verdict <> 'compile_error'),
           'tests', CASE WHEN verdict = 'compile_error' THEN '[]'::jsonb
                    ELSE jsonb_build_array(
               jsonb_build_object('name', 'basic', 'passed', true,
                   'verdict', 'ok', 'wall_ms', 12),
               jsonb_build_object('name', 'empty', 'passed', v <> 4,
                   'verdict', CASE WHEN v = 4 THEN 'wrong_answer' ELSE 'ok'
                   END, 'wall_ms', 3),
               jsonb_build_object('name', 'many', 'passed', v < 4,
                   'verdict', CASE WHEN v = 5 THEN 'time_limit'
                   WHEN v >= 4 THEN 'wrong_answer' ELSE 'ok' END,
                   'wall_ms', 140),
               jsonb_build_object('name', 'concurrent', 'passed', v < 4,
                   'verdict', CASE WHEN v < 4 THEN 'ok' ELSE 'wrong_answer'
                   END, 'wall_ms', 220)) END,
           'speedup', CASE WHEN v < 4 THEN jsonb_build_object('median',
               speedup, 'threads', 2) END) AS result
  FROM (VALUES (0, 'accepted', 100, 1.92), (1, 'accepted', 90, 1.61),
               (2, 'accepted', 82, 1.35), (3, 'accepted', 70, 0.98),
               (4, 'wrong_answer', 35, NULL), (5, 'time_limit', 40, NULL),
               (6, 'compile_error', 0, NULL), (7, 'data_race', 0, NULL))
       AS v(v, verdict, score, speedup);

-- ---- cohorts and enrollments ----------------------------------------------
-- Cohort c = 1..100 starts between ~480 and ~20 days ago and runs 120 days;
-- cohort 101 is self-paced, started 200 days ago, and holds everyone.
CREATE TEMP TABLE s_cohort ON COMMIT DROP AS
SELECT c AS n, gen_random_uuid() AS id,
       date_trunc('day', now()) - (20 + (100 - c) * 4.6) * interval '1 day'
           + interval '9 hours' AS starts_at,
       120 AS days, 20000 + 1 + (c - 1) % 30 AS instructor_n
  FROM generate_series(1, 100) c
UNION ALL
SELECT 101, gen_random_uuid(),
       date_trunc('day', now()) - interval '200 days', 365, 20001;
CREATE UNIQUE INDEX ON s_cohort (n);

INSERT INTO cohorts (tenant_id, id, program_id, name, starts_at, ends_at,
                     timezone, capacity, waitlist, late_percent_per_day,
                     late_floor, created_at, updated_at)
SELECT :'tid', id, :'pid',
       CASE WHEN n = 101 THEN 'Self-paced (all learners)'
            ELSE format('Cohort %s', lpad(n::text, 3, '0')) END,
       starts_at, starts_at + days * interval '1 day',
       (ARRAY['UTC', 'Europe/Paris', 'America/New_York',
              'Asia/Tokyo'])[1 + n % 4],
       NULL, n <> 101, CASE WHEN n % 5 = 0 THEN 0 ELSE 10 END, 50,
       starts_at - interval '60 days', starts_at - interval '60 days'
  FROM s_cohort;
INSERT INTO cohort_instructors (tenant_id, cohort_id, user_id)
SELECT :'tid', c.id, u.id FROM s_cohort c JOIN s_user u ON u.n = c.instructor_n;

-- One row per enrollment with what drives its data: state, ability (a
-- multiplier on each question's chance) and progress k (assessments 1..k
-- attempted, in order).
CREATE TEMP TABLE s_enr ON COMMIT DROP AS
WITH base AS (
	SELECT l AS learner_n, 1 + (l * 37) % 100 AS cohort_n, random() AS r
	  FROM generate_series(1, 10000) l
	UNION ALL
	SELECT l, 101, random() FROM generate_series(1, 10000) l
), st AS (
	SELECT b.*, c.starts_at, c.days,
	       extract(epoch FROM now() - c.starts_at) / 86400 AS age,
	       CASE WHEN b.cohort_n = 101 THEN
	                CASE WHEN b.r < 0.10 THEN 'withdrawn'
	                     WHEN b.r < 0.35 THEN 'completed' ELSE 'active' END
	            WHEN b.r < 0.04 THEN 'waitlisted'
	            WHEN b.r < 0.10 THEN 'withdrawn'
	            WHEN now() > c.starts_at + c.days * interval '1 day' THEN
	                CASE WHEN b.r < 0.75 THEN 'completed' ELSE 'active' END
	            WHEN b.r < 0.13 THEN 'completed'
	            ELSE 'active' END AS state
	  FROM base b JOIN s_cohort c ON c.n = b.cohort_n
)
SELECT row_number() OVER (ORDER BY cohort_n, learner_n) AS n,
       gen_random_uuid() AS id, learner_n, cohort_n, state, starts_at,
       starts_at - (1 + random() * 29) * interval '1 day' AS enrolled_at,
       0.7 + random() * 0.5 AS ability,
       CASE state
	    WHEN 'waitlisted' THEN 0
	    WHEN 'completed' THEN 50
	    WHEN 'withdrawn' THEN floor(random() * 20)::int
	    ELSE floor(least(50, floor((age + 3) / 2))
	               * CASE WHEN cohort_n = 101 THEN 0.3 + 0.7 * random()
	                      ELSE 0.6 + 0.4 * random() END)::int
       END AS k
  FROM st;
CREATE UNIQUE INDEX ON s_enr (n);

INSERT INTO enrollments (tenant_id, id, cohort_id, user_id, state,
                         waitlist_seq, source, enrolled_at, updated_at,
                         completed_at)
SELECT :'tid', e.id, c.id, u.id, e.state,
       CASE WHEN e.state = 'waitlisted' THEN nextval('waitlist_seq') END,
       CASE WHEN e.cohort_n = 101 THEN 'batch' ELSE 'api' END,
       e.enrolled_at, e.enrolled_at,
       CASE WHEN e.state = 'completed' THEN least(now() - interval '1 hour',
            e.starts_at + (90 + random() * 30) * interval '1 day') END
  FROM (SELECT * FROM s_enr ORDER BY n) e
  JOIN s_cohort c ON c.n = e.cohort_n
  JOIN s_user u ON u.n = e.learner_n;
-- Cohorts are full: seats held (active and completed) are the capacity,
-- so the waitlist is real.
UPDATE cohorts c SET capacity = x.held
  FROM (SELECT c.id, count(*) FILTER (WHERE e.state IN ('active',
               'completed')) AS held
          FROM s_enr e JOIN s_cohort c ON c.n = e.cohort_n
         WHERE c.n <> 101 GROUP BY c.id) x
 WHERE c.tenant_id = :'tid' AND c.id = x.id;

-- ---- lesson completions ---------------------------------------------------
-- Lessons 1..L in order, L following progress (all 30 when completed).
INSERT INTO lesson_completions (tenant_id, enrollment_id, lesson_id,
                                completed_at)
SELECT :'tid', e.id, l.id,
       least(now() - interval '1 hour', e.starts_at
             + (l.n * 3.2 - 4 + random() * 3) * interval '1 day')
  FROM s_enr e
  CROSS JOIN LATERAL generate_series(1, CASE WHEN e.state = 'completed'
      THEN 30 ELSE least(30, (e.k * 3) / 5 + (e.n % 3)::int) END) g
  JOIN s_lesson l ON l.n = g
 WHERE e.k > 0;

-- ---- submissions ----------------------------------------------------------
-- The plan: attempts per (enrollment, assessment), then nudged (one attempt
-- more or less on some groups) until the total is exactly the target.
CREATE TEMP TABLE s_plan ON COMMIT DROP AS
SELECT e.n AS e_n, a.k, random() AS h,
       CASE WHEN a.kind = 'quiz' THEN
            CASE WHEN r < 0.62 THEN 1 WHEN r < 0.88 THEN 2 ELSE 3 END
            ELSE CASE WHEN r < 0.35 THEN 1 WHEN r < 0.65 THEN 2
                      WHEN r < 0.85 THEN 3 WHEN r < 0.95 THEN 4 ELSE 5 END
       END AS n_att,
       CASE WHEN a.kind = 'quiz' THEN 3 ELSE 5 END AS max_att
  FROM s_enr e
  CROSS JOIN LATERAL generate_series(1, e.k) g
  JOIN s_asmt a ON a.k = g
  CROSS JOIN LATERAL (SELECT random() + 0 * g AS r) rr;
DO $$
DECLARE
	target	bigint := current_setting('seed.submissions')::bigint;
	diff	bigint;
	moved	bigint;
BEGIN
	LOOP
		SELECT coalesce(sum(n_att), 0) - target INTO diff FROM s_plan;
		EXIT WHEN diff = 0;
		IF diff > 0 THEN
			UPDATE s_plan SET n_att = n_att - 1 WHERE ctid = ANY (ARRAY(
			    SELECT ctid FROM s_plan WHERE n_att >= 2 ORDER BY h
			     LIMIT diff));
		ELSE
			UPDATE s_plan SET n_att = n_att + 1 WHERE ctid = ANY (ARRAY(
			    SELECT ctid FROM s_plan WHERE n_att < max_att
			     ORDER BY h LIMIT -diff));
		END IF;
		GET DIAGNOSTICS moved = ROW_COUNT;
		IF moved = 0 THEN
			RAISE EXCEPTION 'cannot reach % submissions (off by %)',
			    target, diff;
		END IF;
	END LOOP;
END
$$;

-- One row per submission.  The last attempt passes when the enrollment
-- completed (or, mostly, anyway); earlier ones draw each question against
-- its difficulty and the learner's ability.  8% of groups are late.
CREATE TEMP TABLE s_sub ON COMMIT DROP AS
SELECT x.*,
       CASE WHEN x.ts > x.due THEN ceil(extract(epoch FROM x.ts - x.due)
            / 86400)::int ELSE 0 END AS days_late
  FROM (
	SELECT p.e_n, p.k, t.attempt, p.n_att, e.state, a.kind,
	       e.starts_at + a.due_days * interval '1 day' AS due,
	       least(now() - random() * interval '2 hours',
	             e.starts_at + a.due_days * interval '1 day'
	             + CASE WHEN p.h < 0.08 AND e.state <> 'completed'
	                    THEN (0.2 + p.h * 50) ELSE -(0.2 + p.h * 5) END
	               * interval '1 day'
	             - (p.n_att - t.attempt) * interval '19 hours') AS ts,
	       (t.attempt = p.n_att AND (e.state = 'completed'
	        OR random() < 0.8)) AS good,
	       e.ability, random() AS r1, random() AS r2, random() AS r3,
	       random() AS r4
	  FROM s_plan p
	  JOIN s_enr e ON e.n = p.e_n
	  JOIN s_asmt a ON a.k = p.k
	  CROSS JOIN LATERAL generate_series(1, p.n_att) t(attempt)
	 OFFSET 0) x;

CREATE TEMP TABLE s_qp ON COMMIT DROP AS
SELECT k, array_agg(p ORDER BY q) AS p FROM s_question GROUP BY k;
CREATE UNIQUE INDEX ON s_qp (k);

INSERT INTO submissions (tenant_id, id, assessment_id, enrollment_id,
                         user_id, attempt, submitted_at, answers, status,
                         score, late, days_late, penalty, final_score,
                         passed, detail, source, exercise_id,
                         exercise_version, verdict, result, graded_at,
                         updated_at)
SELECT :'tid', gen_random_uuid(), a.id, e.id, u.id, s.attempt, s.ts,
       qp.answers, 'graded', sc.score, s.days_late > 0, s.days_late,
       pen.penalty, sc.score * (100 - pen.penalty) / 100,
       sc.score * (100 - pen.penalty) / 100 >= 70,
       qp.detail,
       CASE WHEN s.kind = 'exercise' THEN
            '#include "exercise.h"' || chr(10) || '/* attempt ' || s.attempt
            || ' */' || chr(10) || 'int solve(void) { return 0; }' END,
       a.exercise_id, CASE WHEN s.kind = 'exercise' THEN 1 END,
       xr.verdict, xr.result,
       s.ts + interval '40 seconds', s.ts + interval '40 seconds'
  FROM s_sub s
  JOIN s_enr e ON e.n = s.e_n
  JOIN s_user u ON u.n = e.learner_n
  JOIN s_asmt a ON a.k = s.k
  JOIN s_cohort c ON c.n = e.cohort_n
  LEFT JOIN s_qp q ON q.k = s.k
  LEFT JOIN s_quizpat qp ON qp.k = s.k AND qp.pat = CASE
       WHEN s.good THEN (ARRAY[11, 13, 14, 15])[1 + floor(s.r1 * 4)::int]
       ELSE (s.r1 < least(0.98, q.p[1] * s.ability))::int
          + 2 * (s.r2 < least(0.98, q.p[2] * s.ability))::int
          + 4 * (s.r3 < least(0.98, q.p[3] * s.ability))::int
          + 8 * (s.r4 < least(0.98, q.p[4] * s.ability))::int END
  LEFT JOIN s_exres xr ON s.kind = 'exercise' AND xr.v = CASE
       WHEN s.good THEN floor(s.r1 * 4)::int
       ELSE 4 + floor(s.r2 * 4)::int END
  CROSS JOIN LATERAL (SELECT coalesce(qp.score, xr.score) AS score) sc
  CROSS JOIN LATERAL (SELECT least(s.days_late * CASE WHEN c.n % 5 = 0
       THEN 0 ELSE 10 END, 100 - 50)::numeric AS penalty) pen;

UPDATE enrollments en SET last_activity_at = x.at
  FROM (SELECT enrollment_id, max(submitted_at) AS at FROM submissions
         WHERE tenant_id = :'tid' GROUP BY enrollment_id) x
 WHERE en.tenant_id = :'tid' AND en.id = x.enrollment_id;

-- ---- grading records ------------------------------------------------------
-- Every exercise submission: its grade, and the job that produced it.
INSERT INTO grade_history (tenant_id, submission_id, graded_at, verdict,
                           score, final_score)
SELECT tenant_id, id, graded_at, verdict, score, final_score
  FROM submissions WHERE tenant_id = :'tid' AND exercise_id IS NOT NULL;
INSERT INTO grade_jobs (tenant_id, kind, submission_id, state, attempts,
                        worker, created_at, updated_at)
SELECT tenant_id, 'submission', id, 'done', 1, 'grader-1', submitted_at,
       graded_at
  FROM submissions WHERE tenant_id = :'tid' AND exercise_id IS NOT NULL;

-- A regrade, ten days ago, of module 1's exercise after its time limit was
-- raised: time_limit verdicts before then became accepted at 70.
SELECT id AS regrade_asmt, now() - interval '10 days' AS regrade_at
  FROM s_asmt WHERE k = 5 \gset
INSERT INTO audit_events (tenant_id, at, actor_type, actor_id, action,
                          object_type, object_id, request_id)
SELECT :'tid', timestamptz :'regrade_at' - interval '1 minute', 'user', u.id,
       'POST /v1/assessments/' || :'regrade_asmt' || '/regrade',
       'assessment', :'regrade_asmt', 'seed-regrade'
  FROM s_user u WHERE u.n = 20001;
CREATE TEMP TABLE s_regrade ON COMMIT DROP AS
SELECT id, penalty, row_number() OVER (ORDER BY submitted_at) AS i
  FROM submissions WHERE tenant_id = :'tid'
   AND assessment_id = :'regrade_asmt' AND verdict = 'time_limit'
   AND submitted_at < timestamptz :'regrade_at';
INSERT INTO grade_history (tenant_id, submission_id, graded_at, verdict,
                           score, final_score)
SELECT :'tid', id, timestamptz :'regrade_at' + i * interval '50 ms',
       'accepted', 70, 70 * (100 - penalty) / 100
  FROM s_regrade;
UPDATE submissions s SET verdict = 'accepted', score = 70,
       final_score = 70 * (100 - s.penalty) / 100,
       passed = 70 * (100 - s.penalty) / 100 >= 70,
       result = jsonb_set(s.result, '{verdict}', '"accepted"'),
       graded_at = timestamptz :'regrade_at' + r.i * interval '50 ms',
       updated_at = timestamptz :'regrade_at' + r.i * interval '50 ms'
  FROM s_regrade r WHERE s.tenant_id = :'tid' AND s.id = r.id;

-- Extensions granted by the cohort's instructor to 2,000 active learners.
INSERT INTO extensions (tenant_id, assessment_id, enrollment_id, due_at,
                        extra_attempts, granted_by, granted_at)
SELECT :'tid', a.id, e.id,
       e.starts_at + (a.due_days + 7) * interval '1 day',
       CASE WHEN e.n % 3 = 0 THEN 1 ELSE 0 END, u.id,
       e.starts_at + (a.due_days - 1) * interval '1 day'
  FROM (SELECT * FROM s_enr WHERE state = 'active' AND cohort_n <= 100
         ORDER BY random() LIMIT 2000) e
  JOIN s_asmt a ON a.k = 1 + e.n % 50
  JOIN s_cohort c ON c.n = e.cohort_n
  JOIN s_user u ON u.n = c.instructor_n;

SELECT setval('waitlist_seq', greatest((SELECT last_value FROM waitlist_seq),
       coalesce((SELECT max(waitlist_seq) FROM enrollments), 1))) \g /dev/null
COMMIT;
RESET session_replication_role;

ANALYZE tenants;
ANALYZE users;
ANALYZE programs;
ANALYZE modules;
ANALYZE lessons;
ANALYZE assessments;
ANALYZE quiz_questions;
ANALYZE exercises;
ANALYZE exercise_versions;
ANALYZE cohorts;
ANALYZE cohort_instructors;
ANALYZE enrollments;
ANALYZE lesson_completions;
ANALYZE extensions;
ANALYZE submissions;
ANALYZE grade_history;
ANALYZE grade_jobs;
ANALYZE audit_events;

SELECT set_config('cohortd.tenant_id', id::text, false) AS tid
  FROM tenants WHERE slug = :'tenant_slug' \gset
\echo 'seeded tenant' :tenant_slug :tid
SELECT 'users' AS "table", count(*) AS "rows" FROM users WHERE tenant_id = current_tenant()
UNION ALL SELECT 'learners', count(*) FROM users WHERE tenant_id = current_tenant() AND role = 'learner'
UNION ALL SELECT 'programs', count(*) FROM programs WHERE tenant_id = current_tenant()
UNION ALL SELECT 'modules', count(*) FROM modules WHERE tenant_id = current_tenant()
UNION ALL SELECT 'lessons', count(*) FROM lessons WHERE tenant_id = current_tenant()
UNION ALL SELECT 'assessments', count(*) FROM assessments WHERE tenant_id = current_tenant()
UNION ALL SELECT 'quiz_questions', count(*) FROM quiz_questions WHERE tenant_id = current_tenant()
UNION ALL SELECT 'exercises', count(*) FROM exercises WHERE tenant_id = current_tenant()
UNION ALL SELECT 'cohorts', count(*) FROM cohorts WHERE tenant_id = current_tenant()
UNION ALL SELECT 'enrollments', count(*) FROM enrollments WHERE tenant_id = current_tenant()
UNION ALL SELECT 'enrollments ' || state, count(*) FROM enrollments WHERE tenant_id = current_tenant() GROUP BY state
UNION ALL SELECT 'lesson_completions', count(*) FROM lesson_completions WHERE tenant_id = current_tenant()
UNION ALL SELECT 'submissions', count(*) FROM submissions WHERE tenant_id = current_tenant()
UNION ALL SELECT 'submissions late', count(*) FROM submissions WHERE tenant_id = current_tenant() AND late
UNION ALL SELECT 'submissions passed', count(*) FROM submissions WHERE tenant_id = current_tenant() AND passed
UNION ALL SELECT 'submissions exercise', count(*) FROM submissions WHERE tenant_id = current_tenant() AND exercise_id IS NOT NULL
UNION ALL SELECT 'grade_history', count(*) FROM grade_history WHERE tenant_id = current_tenant()
UNION ALL SELECT 'grade_jobs', count(*) FROM grade_jobs WHERE tenant_id = current_tenant()
UNION ALL SELECT 'extensions', count(*) FROM extensions WHERE tenant_id = current_tenant();
