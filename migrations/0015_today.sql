-- 0015_today.sql - the microlearning rhythm (issue #18): concepts on
-- lessons, quiz questions and exercises; learner preferences; spaced
-- review of quiz questions (SM-2, docs/LEARNING.md); the log of lessons
-- read again.  Same rules as 0003: tenant_id leads every key, row-level
-- security enabled and forced on every table.

-- Concepts are short slugs ("data-race", "lock-ordering").  The API
-- validates them; the check keeps the database honest.
CREATE FUNCTION concepts_ok(p text[]) RETURNS boolean
	LANGUAGE sql IMMUTABLE
AS $$
	SELECT cardinality(p) <= 16 AND NOT EXISTS (SELECT 1 FROM unnest(p) c
	    WHERE c IS NULL OR c !~ '^[a-z0-9]+(-[a-z0-9]+)*$' OR length(c) > 40)
$$;

ALTER TABLE lessons ADD COLUMN concepts text[] NOT NULL DEFAULT '{}'
	CHECK (concepts_ok(concepts));
ALTER TABLE quiz_questions ADD COLUMN concepts text[] NOT NULL DEFAULT '{}'
	CHECK (concepts_ok(concepts));
-- What a learner reads after answering the question in review.
ALTER TABLE quiz_questions ADD COLUMN explanation text
	CHECK (length(explanation) <= 4000);
-- An exercise's concepts live in its versions' spec ("concepts"), with the
-- rest of its description (api/exercises.c).
CREATE INDEX lessons_concepts ON lessons USING gin (concepts);

-- The one place a grading verdict becomes a concept.  result is the
-- grader's report: an accepted program whose benchmark earned no speedup
-- points did not scale, which is Amdahl's lesson.
CREATE FUNCTION verdict_concept(p_verdict text, p_result jsonb)
	RETURNS text LANGUAGE sql IMMUTABLE
AS $$
	SELECT CASE p_verdict
	    WHEN 'data_race' THEN 'data-race'
	    WHEN 'deadlock' THEN 'deadlock'
	    WHEN 'blocking_call' THEN 'event-loop-blocking'
	    WHEN 'accepted' THEN CASE WHEN jsonb_typeof(p_result->'speedup')
	        = 'object' AND coalesce((p_result->'score_breakdown'->>
	        'speedup')::numeric, 0) = 0 THEN 'amdahl' END
	END
$$;

-- What a verdict's concept is called in a sentence a manager reads.
CREATE FUNCTION verdict_phrase(p_verdict text) RETURNS text
	LANGUAGE sql IMMUTABLE
AS $$
	SELECT CASE p_verdict
	    WHEN 'data_race' THEN 'had a data race'
	    WHEN 'deadlock' THEN 'deadlocked'
	    WHEN 'blocking_call' THEN 'blocked its event loop'
	    WHEN 'accepted' THEN 'was correct but did not run faster in parallel'
	END
$$;

CREATE TABLE learner_preferences (
	tenant_id	uuid NOT NULL,
	user_id		uuid NOT NULL,
	daily_minutes	integer NOT NULL DEFAULT 10
			CHECK (daily_minutes BETWEEN 1 AND 240),
	timezone	text,		-- NULL: the cohort's, else UTC
	reminder_time	time,
	-- ISO days of the week, 1 = Monday.
	study_days	integer[] NOT NULL DEFAULT '{1,2,3,4,5,6,7}'
			CHECK (study_days <@ '{1,2,3,4,5,6,7}'
			AND cardinality(study_days) >= 1),
	updated_at	timestamptz NOT NULL DEFAULT clock_timestamp(),
	PRIMARY KEY (tenant_id, user_id),
	FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
		ON DELETE CASCADE
);

-- One card per learner and quiz question: the SM-2 state.
CREATE TABLE review_cards (
	tenant_id	uuid NOT NULL,
	user_id		uuid NOT NULL,
	question_id	uuid NOT NULL,
	easiness	numeric NOT NULL DEFAULT 2.5 CHECK (easiness >= 1.3),
	repetitions	integer NOT NULL DEFAULT 0,
	interval_days	integer NOT NULL DEFAULT 0,
	due_at		timestamptz NOT NULL,
	last_answered_at timestamptz NOT NULL,
	last_correct	boolean NOT NULL,
	PRIMARY KEY (tenant_id, user_id, question_id),
	FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
		ON DELETE CASCADE,
	FOREIGN KEY (tenant_id, question_id) REFERENCES quiz_questions
		(tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX review_cards_due ON review_cards (tenant_id, user_id, due_at);

-- Every answer given in review (streaks, "reviewed since").
CREATE TABLE review_answers (
	tenant_id	uuid NOT NULL,
	id		uuid NOT NULL DEFAULT gen_random_uuid(),
	user_id		uuid NOT NULL,
	question_id	uuid NOT NULL,
	answered_at	timestamptz NOT NULL DEFAULT clock_timestamp(),
	correct		boolean NOT NULL,
	PRIMARY KEY (tenant_id, id),
	FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
		ON DELETE CASCADE,
	FOREIGN KEY (tenant_id, question_id) REFERENCES quiz_questions
		(tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX review_answers_user ON review_answers (tenant_id, user_id,
	answered_at);

-- A lesson marked complete again after its first completion: a review.
CREATE TABLE lesson_reviews (
	tenant_id	uuid NOT NULL,
	enrollment_id	uuid NOT NULL,
	lesson_id	uuid NOT NULL,
	reviewed_at	timestamptz NOT NULL DEFAULT clock_timestamp(),
	PRIMARY KEY (tenant_id, enrollment_id, lesson_id, reviewed_at),
	FOREIGN KEY (tenant_id, enrollment_id) REFERENCES enrollments (tenant_id, id),
	FOREIGN KEY (tenant_id, lesson_id) REFERENCES lessons (tenant_id, id)
		ON DELETE CASCADE
);

DO $$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['learner_preferences', 'review_cards',
	    'review_answers', 'lesson_reviews']
	LOOP
		EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
		EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
		EXECUTE format('CREATE POLICY %I ON %I USING (tenant_id = '
		    'current_tenant()) WITH CHECK (tenant_id = current_tenant())',
		    t || '_tenant', t);
	END LOOP;
END
$$;

-- SM-2 (Wozniak 1990; docs/LEARNING.md), the one implementation: apply an
-- answer given at p_at to the learner's card for the question.  A right
-- answer is quality 4, a wrong one quality 1.  Quality below 3 starts the
-- repetitions over (next due one day later) and keeps the E-Factor;
-- otherwise the intervals are 1 day, 6 days, then the previous interval
-- times the E-Factor, which moves by 0.1 - (5-q)(0.08 + (5-q)0.02), never
-- below 1.3.  Returns the next due time.
CREATE FUNCTION review_apply(p_tenant uuid, p_user uuid, p_question uuid,
    p_correct boolean, p_at timestamptz) RETURNS timestamptz
	LANGUAGE plpgsql
AS $$
DECLARE
	c	review_cards%ROWTYPE;
	q	integer := CASE WHEN p_correct THEN 4 ELSE 1 END;
	ivl	integer;
BEGIN
	SELECT * INTO c FROM review_cards WHERE tenant_id = p_tenant
	   AND user_id = p_user AND question_id = p_question FOR UPDATE;
	IF NOT FOUND THEN
		c.easiness := 2.5;
		c.repetitions := 0;
		c.interval_days := 0;
	END IF;
	IF q < 3 THEN
		c.repetitions := 0;
		ivl := 1;
	ELSE
		ivl := CASE c.repetitions WHEN 0 THEN 1 WHEN 1 THEN 6
		    ELSE ceil(c.interval_days * c.easiness)::integer END;
		c.repetitions := c.repetitions + 1;
		c.easiness := greatest(1.3, c.easiness + (0.1 - (5 - q) *
		    (0.08 + (5 - q) * 0.02)));
	END IF;
	INSERT INTO review_cards (tenant_id, user_id, question_id, easiness,
	       repetitions, interval_days, due_at, last_answered_at, last_correct)
	VALUES (p_tenant, p_user, p_question, c.easiness, c.repetitions, ivl,
	       p_at + ivl * interval '1 day', p_at, p_correct)
	ON CONFLICT (tenant_id, user_id, question_id) DO UPDATE SET
	       easiness = excluded.easiness, repetitions = excluded.repetitions,
	       interval_days = excluded.interval_days, due_at = excluded.due_at,
	       last_answered_at = excluded.last_answered_at,
	       last_correct = excluded.last_correct;
	RETURN p_at + ivl * interval '1 day';
END
$$;

-- A graded quiz submission is each question's first repetition: its
-- questions join the learner's review schedule.
CREATE FUNCTION review_from_submission() RETURNS trigger
	LANGUAGE plpgsql
AS $$
DECLARE
	d	jsonb;
BEGIN
	IF jsonb_typeof(NEW.detail) = 'array' THEN
		FOR d IN SELECT * FROM jsonb_array_elements(NEW.detail) LOOP
			IF d ? 'question_id' AND EXISTS (SELECT 1 FROM
			    quiz_questions q WHERE q.tenant_id = NEW.tenant_id
			    AND q.id = (d->>'question_id')::uuid) THEN
				PERFORM review_apply(NEW.tenant_id, NEW.user_id,
				    (d->>'question_id')::uuid,
				    coalesce((d->>'correct')::boolean, false),
				    NEW.submitted_at);
			END IF;
		END LOOP;
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER submissions_review AFTER INSERT ON submissions
	FOR EACH ROW EXECUTE FUNCTION review_from_submission();

-- ---- the daily plan ----------------------------------------------------

-- A learner's settings with the defaults filled in: 10 minutes a day, the
-- timezone of their first active cohort (else UTC), every day.
CREATE FUNCTION learner_settings(p_user uuid)
	RETURNS TABLE (daily_minutes integer, timezone text,
	               reminder_time text, study_days integer[])
	LANGUAGE sql STABLE
AS $$
	SELECT coalesce(p.daily_minutes, 10),
	       coalesce(p.timezone, (SELECT c.timezone FROM enrollments e
	           JOIN cohorts c ON c.tenant_id = e.tenant_id AND c.id = e.cohort_id
	          WHERE e.tenant_id = current_tenant() AND e.user_id = p_user
	            AND e.state = 'active' ORDER BY e.enrolled_at LIMIT 1), 'UTC'),
	       to_char(p.reminder_time, 'HH24:MI'),
	       coalesce(p.study_days, '{1,2,3,4,5,6,7}')
	  FROM (SELECT 1) one LEFT JOIN learner_preferences p
	    ON p.tenant_id = current_tenant() AND p.user_id = p_user
$$;

-- Everything today's plan may hold, best first: grp 1 work past due,
-- grp 2 what the grader found (the shortest lesson on the verdict's
-- concept and review questions on it, until the learner reviews a lesson
-- on that concept after the grade), grp 3 spaced reviews due by the end
-- of the learner's day, grp 4 the next lessons and assessments of
-- unlocked modules in module order.  The caller fits them to the budget.
CREATE FUNCTION today_candidates(p_user uuid, p_day_end timestamptz)
	RETURNS TABLE (grp integer, kind text, id uuid, title text,
	               estimated_minutes integer, reason text, due_at timestamptz,
	               k1 double precision, k2 double precision, k3 double precision)
	LANGUAGE sql STABLE
AS $$
	WITH e AS (
		SELECT en.id, en.cohort_id, c.starts_at, c.program_id
		  FROM enrollments en
		  JOIN cohorts c ON c.tenant_id = en.tenant_id AND c.id = en.cohort_id
		  JOIN programs p ON p.tenant_id = c.tenant_id AND p.id = c.program_id
		 WHERE en.tenant_id = current_tenant() AND en.user_id = p_user
		   AND en.state = 'active' AND p.status = 'published'
	), mods AS (
		SELECT e.id AS enrollment_id, e.starts_at, m.id, m.title, m.position
		  FROM e JOIN modules m ON m.tenant_id = current_tenant()
		   AND m.program_id = e.program_id
		 WHERE NOT EXISTS (SELECT 1 FROM module_blocker(e.id, m.id))
	), open_work AS (
		SELECT mo.enrollment_id, mo.title AS module_title, mo.position AS mpos,
		       a.id, a.title, a.kind, a.estimated_minutes, a.position,
		       coalesce(x.due_at, mo.starts_at + a.due_days * interval '1 day')
		           AS due
		  FROM mods mo JOIN assessments a ON a.tenant_id = current_tenant()
		   AND a.module_id = mo.id
		  LEFT JOIN extensions x ON x.tenant_id = a.tenant_id
		   AND x.assessment_id = a.id AND x.enrollment_id = mo.enrollment_id
		 WHERE NOT EXISTS (SELECT 1 FROM submissions s
		        WHERE s.tenant_id = a.tenant_id AND s.assessment_id = a.id
		          AND s.enrollment_id = mo.enrollment_id
		          AND (s.passed OR s.status NOT IN ('graded', 'failed')))
		   AND (a.max_attempts IS NULL OR (SELECT count(*) FROM submissions s
		        WHERE s.tenant_id = a.tenant_id AND s.assessment_id = a.id
		          AND s.enrollment_id = mo.enrollment_id) <
		        a.max_attempts + coalesce(x.extra_attempts, 0))
	), verdicts AS (
		SELECT DISTINCT ON (s.enrollment_id, s.assessment_id)
		       s.enrollment_id, e.program_id, a.title, s.verdict,
		       verdict_concept(s.verdict, s.result) AS concept,
		       coalesce(s.graded_at, s.submitted_at) AS graded_at
		  FROM e JOIN submissions s ON s.tenant_id = current_tenant()
		   AND s.enrollment_id = e.id
		  JOIN assessments a ON a.tenant_id = s.tenant_id AND a.id = s.assessment_id
		 WHERE s.status = 'graded' AND s.verdict IS NOT NULL
		 ORDER BY s.enrollment_id, s.assessment_id, s.attempt DESC
	), found AS (
		SELECT v.* FROM verdicts v
		 WHERE v.concept IS NOT NULL
		   AND NOT EXISTS (SELECT 1 FROM lessons l
		        WHERE l.tenant_id = current_tenant() AND v.concept = ANY (l.concepts)
		          AND (EXISTS (SELECT 1 FROM lesson_completions lc
		                WHERE lc.tenant_id = l.tenant_id AND lc.lesson_id = l.id
		                  AND lc.enrollment_id = v.enrollment_id
		                  AND lc.completed_at > v.graded_at)
		            OR EXISTS (SELECT 1 FROM lesson_reviews lr
		                WHERE lr.tenant_id = l.tenant_id AND lr.lesson_id = l.id
		                  AND lr.enrollment_id = v.enrollment_id
		                  AND lr.reviewed_at > v.graded_at)))
	)
	SELECT 1, 'assessment'::text, w.id, w.title, w.estimated_minutes,
	       format('%s was due on %s and is not passed yet.', w.title,
	           to_char(w.due, 'FMMonth FMDD')),
	       w.due, extract(epoch FROM w.due)::float8, w.mpos::float8,
	       w.position::float8
	  FROM open_work w WHERE w.due < now()
	UNION ALL
	SELECT * FROM (SELECT DISTINCT ON (f.enrollment_id, f.concept)
	       2, 'lesson', l.id, l.title, l.estimated_minutes,
	       format('Your last submission to %s %s; this lesson covers %s.',
	           f.title, verdict_phrase(f.verdict), replace(f.concept, '-', ' ')),
	       f.graded_at, extract(epoch FROM f.graded_at)::float8, 0::float8,
	       l.estimated_minutes::float8
	  FROM found f JOIN mods mo ON mo.enrollment_id = f.enrollment_id
	  JOIN lessons l ON l.tenant_id = current_tenant() AND l.module_id = mo.id
	   AND f.concept = ANY (l.concepts)
	 ORDER BY f.enrollment_id, f.concept, l.estimated_minutes, mo.position,
	       l.position) lesson_for_verdict
	UNION ALL
	SELECT * FROM (SELECT 2, 'review', q.id, left(q.prompt, 200), 1,
	       format('Your last submission to %s %s; this question checks %s.',
	           f.title, verdict_phrase(f.verdict), replace(f.concept, '-', ' ')),
	       f.graded_at, extract(epoch FROM f.graded_at)::float8, 1::float8,
	       row_number() OVER (PARTITION BY f.enrollment_id, f.concept
	           ORDER BY mo.position, a.position, q.position)::float8 AS n
	  FROM found f JOIN mods mo ON mo.enrollment_id = f.enrollment_id
	  JOIN assessments a ON a.tenant_id = current_tenant() AND a.module_id = mo.id
	  JOIN quiz_questions q ON q.tenant_id = a.tenant_id
	   AND q.assessment_id = a.id AND f.concept = ANY (q.concepts)
	 WHERE NOT EXISTS (SELECT 1 FROM review_answers ra
	        WHERE ra.tenant_id = q.tenant_id AND ra.user_id = p_user
	          AND ra.question_id = q.id AND ra.answered_at > f.graded_at))
	       questions_for_verdict WHERE n <= 3
	UNION ALL
	SELECT 3, 'review', q.id, left(q.prompt, 200), 1,
	       CASE WHEN rc.last_correct THEN format('A spaced review of %s: '
	           'you last answered this right on %s.', a.title,
	           to_char(rc.last_answered_at, 'FMMonth FMDD'))
	       ELSE format('You answered this question from %s wrong on %s.',
	           a.title, to_char(rc.last_answered_at, 'FMMonth FMDD')) END,
	       rc.due_at, extract(epoch FROM rc.due_at)::float8, 0::float8,
	       0::float8
	  FROM review_cards rc
	  JOIN quiz_questions q ON q.tenant_id = rc.tenant_id AND q.id = rc.question_id
	  JOIN assessments a ON a.tenant_id = q.tenant_id AND a.id = q.assessment_id
	 WHERE rc.tenant_id = current_tenant() AND rc.user_id = p_user
	   AND rc.due_at < p_day_end
	   AND EXISTS (SELECT 1 FROM mods mo WHERE mo.id = a.module_id)
	UNION ALL
	SELECT 4, 'lesson', l.id, l.title, l.estimated_minutes,
	       format('The next lesson of module "%s".', mo.title),
	       NULL::timestamptz, mo.position::float8, 0::float8,
	       l.position::float8
	  FROM mods mo JOIN lessons l ON l.tenant_id = current_tenant()
	   AND l.module_id = mo.id
	 WHERE NOT EXISTS (SELECT 1 FROM lesson_completions lc
	        WHERE lc.tenant_id = l.tenant_id AND lc.lesson_id = l.id
	          AND lc.enrollment_id = mo.enrollment_id)
	UNION ALL
	SELECT 4, 'assessment', w.id, w.title, w.estimated_minutes,
	       format('The %s that closes module "%s".', w.kind, w.module_title),
	       w.due, w.mpos::float8, 1::float8, w.position::float8
	  FROM open_work w WHERE w.due IS NULL OR w.due >= now()
	ORDER BY 1, 8, 9, 10
$$;

-- Streaks: a study day counts when the learner finished something on it
-- (a lesson, a lesson reviewed, a review answer, a submission) in their
-- timezone; days that are not study days neither count nor break a run,
-- and today does not break it before it is over.
CREATE FUNCTION learner_streak(p_user uuid, p_tz text, p_days integer[],
    OUT current integer, OUT best integer)
	LANGUAGE plpgsql STABLE
AS $$
DECLARE
	today	date := (now() AT TIME ZONE p_tz)::date;
	acts	date[];
	d	date;
	run	integer := 0;
BEGIN
	current := 0;
	best := 0;
	SELECT array_agg(DISTINCT x.day) INTO acts FROM (
		SELECT (lc.completed_at AT TIME ZONE p_tz)::date FROM lesson_completions lc
		  JOIN enrollments e ON e.tenant_id = lc.tenant_id AND e.id = lc.enrollment_id
		 WHERE lc.tenant_id = current_tenant() AND e.user_id = p_user
		UNION ALL
		SELECT (lr.reviewed_at AT TIME ZONE p_tz)::date FROM lesson_reviews lr
		  JOIN enrollments e ON e.tenant_id = lr.tenant_id AND e.id = lr.enrollment_id
		 WHERE lr.tenant_id = current_tenant() AND e.user_id = p_user
		UNION ALL
		SELECT (ra.answered_at AT TIME ZONE p_tz)::date FROM review_answers ra
		 WHERE ra.tenant_id = current_tenant() AND ra.user_id = p_user
		UNION ALL
		SELECT (s.submitted_at AT TIME ZONE p_tz)::date FROM submissions s
		 WHERE s.tenant_id = current_tenant() AND s.user_id = p_user
	) x(day) WHERE x.day BETWEEN today - 730 AND today;
	IF acts IS NULL THEN
		RETURN;
	END IF;
	FOR d IN SELECT g::date FROM generate_series((SELECT min(a) FROM
	    unnest(acts) a), today, interval '1 day') g LOOP
		CONTINUE WHEN NOT extract(isodow FROM d)::integer = ANY (p_days);
		IF d = ANY (acts) THEN
			run := run + 1;
			best := greatest(best, run);
		ELSIF d <> today THEN
			run := 0;
		END IF;
	END LOOP;
	current := run;
END
$$;

-- Pace: the minutes of lessons not done and assessments not passed in the
-- learner's active enrollments, against the study days left before the
-- first of their cohorts ends at p_minutes a day.  No row without an
-- active enrollment.
CREATE FUNCTION learner_pace(p_user uuid, p_tz text, p_days integer[],
    p_minutes integer)
	RETURNS TABLE (on_track boolean, remaining_minutes integer,
	               planned_finish text, cohort_ends_at timestamptz,
	               study_days_left integer)
	LANGUAGE sql STABLE
AS $$
	WITH e AS (
		SELECT en.id, c.program_id, c.ends_at FROM enrollments en
		  JOIN cohorts c ON c.tenant_id = en.tenant_id AND c.id = en.cohort_id
		 WHERE en.tenant_id = current_tenant() AND en.user_id = p_user
		   AND en.state = 'active'
	), rem AS (
		SELECT coalesce((SELECT sum(l.estimated_minutes) FROM e
		    JOIN modules m ON m.tenant_id = current_tenant() AND m.program_id = e.program_id
		    JOIN lessons l ON l.tenant_id = m.tenant_id AND l.module_id = m.id
		   WHERE NOT EXISTS (SELECT 1 FROM lesson_completions lc
		          WHERE lc.tenant_id = l.tenant_id AND lc.lesson_id = l.id
		            AND lc.enrollment_id = e.id)), 0) +
		       coalesce((SELECT sum(a.estimated_minutes) FROM e
		    JOIN modules m ON m.tenant_id = current_tenant() AND m.program_id = e.program_id
		    JOIN assessments a ON a.tenant_id = m.tenant_id AND a.module_id = m.id
		   WHERE NOT EXISTS (SELECT 1 FROM submissions s
		          WHERE s.tenant_id = a.tenant_id AND s.assessment_id = a.id
		            AND s.enrollment_id = e.id AND s.passed)), 0) AS minutes,
		       (SELECT min(ends_at) FROM e) AS ends_at,
		       (now() AT TIME ZONE p_tz)::date AS today
	), days AS (
		SELECT g::date AS d, row_number() OVER (ORDER BY g) AS n
		  FROM rem, generate_series(rem.today, rem.today + 3660,
		       interval '1 day') g
		 WHERE extract(isodow FROM g)::integer = ANY (p_days)
	)
	SELECT rem.minutes <= p_minutes * (SELECT count(*) FROM days
	           WHERE (days.d::timestamp AT TIME ZONE p_tz) < rem.ends_at),
	       rem.minutes::integer,
	       (SELECT d::text FROM days WHERE n = greatest(1,
	           ceil(rem.minutes::numeric / p_minutes))),
	       rem.ends_at,
	       (SELECT count(*) FROM days
	         WHERE (days.d::timestamp AT TIME ZONE p_tz) < rem.ends_at)::integer
	  FROM rem WHERE rem.ends_at IS NOT NULL
$$;
