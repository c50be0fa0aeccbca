-- 0003_content.sql - programs, modules, lessons, assessments and quiz
-- questions; cohorts, instructors, enrollments; completions, extensions,
-- submissions.  Same rules as 0002: tenant_id leads every key, row-level
-- security enabled and forced on every table.

CREATE TABLE programs (
	tenant_id	uuid NOT NULL REFERENCES tenants (id),
	id		uuid NOT NULL DEFAULT gen_random_uuid(),
	title		text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
	summary		text NOT NULL DEFAULT '' CHECK (length(summary) <= 4000),
	status		text NOT NULL DEFAULT 'draft'
			CHECK (status IN ('draft', 'published', 'archived')),
	created_at	timestamptz NOT NULL DEFAULT clock_timestamp(),
	updated_at	timestamptz NOT NULL DEFAULT clock_timestamp(),
	version		integer NOT NULL DEFAULT 1,
	PRIMARY KEY (tenant_id, id)
);
CREATE INDEX programs_list ON programs (tenant_id, created_at, id);

CREATE TABLE modules (
	tenant_id	uuid NOT NULL,
	id		uuid NOT NULL DEFAULT gen_random_uuid(),
	program_id	uuid NOT NULL,
	title		text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
	summary		text NOT NULL DEFAULT '' CHECK (length(summary) <= 4000),
	position	integer NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT clock_timestamp(),
	updated_at	timestamptz NOT NULL DEFAULT clock_timestamp(),
	version		integer NOT NULL DEFAULT 1,
	PRIMARY KEY (tenant_id, id),
	FOREIGN KEY (tenant_id, program_id) REFERENCES programs (tenant_id, id)
		ON DELETE CASCADE
);
CREATE INDEX modules_program ON modules (tenant_id, program_id, position);

CREATE TABLE module_prerequisites (
	tenant_id	uuid NOT NULL,
	module_id	uuid NOT NULL,
	prerequisite_id	uuid NOT NULL,
	PRIMARY KEY (tenant_id, module_id, prerequisite_id),
	FOREIGN KEY (tenant_id, module_id) REFERENCES modules (tenant_id, id)
		ON DELETE CASCADE,
	FOREIGN KEY (tenant_id, prerequisite_id) REFERENCES modules (tenant_id, id)
		ON DELETE CASCADE,
	CHECK (module_id <> prerequisite_id)
);

CREATE TABLE lessons (
	tenant_id	uuid NOT NULL,
	id		uuid NOT NULL DEFAULT gen_random_uuid(),
	module_id	uuid NOT NULL,
	title		text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
	body		text NOT NULL DEFAULT '' CHECK (octet_length(body) <= 65536),
	estimated_minutes integer NOT NULL CHECK (estimated_minutes BETWEEN 1 AND 60),
	position	integer NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT clock_timestamp(),
	updated_at	timestamptz NOT NULL DEFAULT clock_timestamp(),
	version		integer NOT NULL DEFAULT 1,
	PRIMARY KEY (tenant_id, id),
	FOREIGN KEY (tenant_id, module_id) REFERENCES modules (tenant_id, id)
		ON DELETE CASCADE
);
CREATE INDEX lessons_module ON lessons (tenant_id, module_id, position);

CREATE TABLE assessments (
	tenant_id	uuid NOT NULL,
	id		uuid NOT NULL DEFAULT gen_random_uuid(),
	module_id	uuid NOT NULL,
	title		text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
	kind		text NOT NULL CHECK (kind IN ('quiz', 'exercise')),
	weight		numeric NOT NULL DEFAULT 1 CHECK (weight >= 0),
	max_attempts	integer CHECK (max_attempts >= 1),
	pass_score	numeric NOT NULL DEFAULT 70 CHECK (pass_score BETWEEN 0 AND 100),
	due_days	integer CHECK (due_days >= 0),
	estimated_minutes integer NOT NULL DEFAULT 5
			CHECK (estimated_minutes BETWEEN 1 AND 240),
	position	integer NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT clock_timestamp(),
	updated_at	timestamptz NOT NULL DEFAULT clock_timestamp(),
	version		integer NOT NULL DEFAULT 1,
	PRIMARY KEY (tenant_id, id),
	FOREIGN KEY (tenant_id, module_id) REFERENCES modules (tenant_id, id)
		ON DELETE CASCADE
);
CREATE INDEX assessments_module ON assessments (tenant_id, module_id, position);

-- Answer keys live here and leave only through instructor views.
CREATE TABLE quiz_questions (
	tenant_id	uuid NOT NULL,
	id		uuid NOT NULL DEFAULT gen_random_uuid(),
	assessment_id	uuid NOT NULL,
	position	integer NOT NULL,
	kind		text NOT NULL CHECK (kind IN ('single_choice',
			'multiple_choice', 'true_false', 'numeric')),
	prompt		text NOT NULL CHECK (length(prompt) BETWEEN 1 AND 4000),
	options		jsonb NOT NULL DEFAULT '[]',
	points		numeric NOT NULL DEFAULT 1 CHECK (points > 0),
	answer		jsonb NOT NULL,
	tolerance	numeric NOT NULL DEFAULT 0 CHECK (tolerance >= 0),
	PRIMARY KEY (tenant_id, id),
	FOREIGN KEY (tenant_id, assessment_id) REFERENCES assessments (tenant_id, id)
		ON DELETE CASCADE
);
CREATE INDEX quiz_questions_assessment ON quiz_questions (tenant_id, assessment_id, position);

CREATE TABLE cohorts (
	tenant_id	uuid NOT NULL,
	id		uuid NOT NULL DEFAULT gen_random_uuid(),
	program_id	uuid NOT NULL,
	name		text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
	starts_at	timestamptz NOT NULL,
	ends_at		timestamptz NOT NULL,
	timezone	text NOT NULL DEFAULT 'UTC',
	capacity	integer CHECK (capacity >= 0),
	waitlist	boolean NOT NULL DEFAULT false,
	-- Late work: this percent of the score per day late, never more
	-- than (100 - late_floor) percent in all.
	late_percent_per_day numeric NOT NULL DEFAULT 0
			CHECK (late_percent_per_day BETWEEN 0 AND 100),
	late_floor	numeric NOT NULL DEFAULT 0 CHECK (late_floor BETWEEN 0 AND 100),
	created_at	timestamptz NOT NULL DEFAULT clock_timestamp(),
	updated_at	timestamptz NOT NULL DEFAULT clock_timestamp(),
	version		integer NOT NULL DEFAULT 1,
	PRIMARY KEY (tenant_id, id),
	FOREIGN KEY (tenant_id, program_id) REFERENCES programs (tenant_id, id),
	CHECK (ends_at > starts_at)
);
CREATE INDEX cohorts_list ON cohorts (tenant_id, created_at, id);
CREATE INDEX cohorts_program ON cohorts (tenant_id, program_id);

CREATE TABLE cohort_instructors (
	tenant_id	uuid NOT NULL,
	cohort_id	uuid NOT NULL,
	user_id		uuid NOT NULL,
	PRIMARY KEY (tenant_id, cohort_id, user_id),
	FOREIGN KEY (tenant_id, cohort_id) REFERENCES cohorts (tenant_id, id)
		ON DELETE CASCADE,
	FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
);
CREATE INDEX cohort_instructors_user ON cohort_instructors (tenant_id, user_id);

CREATE TABLE enrollments (
	tenant_id	uuid NOT NULL,
	id		uuid NOT NULL DEFAULT gen_random_uuid(),
	cohort_id	uuid NOT NULL,
	user_id		uuid NOT NULL,
	state		text NOT NULL CHECK (state IN ('active', 'waitlisted',
			'withdrawn', 'completed')),
	-- FIFO order of the waitlist: taken under the cohort's row lock.
	waitlist_seq	bigint,
	source		text NOT NULL DEFAULT 'api'
			CHECK (source IN ('api', 'batch', 'demo')),
	enrolled_at	timestamptz NOT NULL DEFAULT clock_timestamp(),
	updated_at	timestamptz NOT NULL DEFAULT clock_timestamp(),
	completed_at	timestamptz,
	last_activity_at timestamptz,
	PRIMARY KEY (tenant_id, id),
	UNIQUE (tenant_id, cohort_id, user_id),
	FOREIGN KEY (tenant_id, cohort_id) REFERENCES cohorts (tenant_id, id),
	FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
);
CREATE INDEX enrollments_cohort ON enrollments (tenant_id, cohort_id, state, waitlist_seq);
CREATE INDEX enrollments_list ON enrollments (tenant_id, cohort_id, enrolled_at, id);
CREATE INDEX enrollments_user ON enrollments (tenant_id, user_id);
CREATE SEQUENCE waitlist_seq;

CREATE TABLE lesson_completions (
	tenant_id	uuid NOT NULL,
	enrollment_id	uuid NOT NULL,
	lesson_id	uuid NOT NULL,
	completed_at	timestamptz NOT NULL DEFAULT clock_timestamp(),
	PRIMARY KEY (tenant_id, enrollment_id, lesson_id),
	FOREIGN KEY (tenant_id, enrollment_id) REFERENCES enrollments (tenant_id, id),
	FOREIGN KEY (tenant_id, lesson_id) REFERENCES lessons (tenant_id, id)
		ON DELETE CASCADE
);
CREATE INDEX lesson_completions_lesson ON lesson_completions (tenant_id, lesson_id);

CREATE TABLE extensions (
	tenant_id	uuid NOT NULL,
	assessment_id	uuid NOT NULL,
	enrollment_id	uuid NOT NULL,
	due_at		timestamptz,
	extra_attempts	integer NOT NULL DEFAULT 0 CHECK (extra_attempts >= 0),
	granted_by	uuid,
	granted_at	timestamptz NOT NULL DEFAULT clock_timestamp(),
	PRIMARY KEY (tenant_id, assessment_id, enrollment_id),
	FOREIGN KEY (tenant_id, assessment_id) REFERENCES assessments (tenant_id, id)
		ON DELETE CASCADE,
	FOREIGN KEY (tenant_id, enrollment_id) REFERENCES enrollments (tenant_id, id)
);

CREATE TABLE submissions (
	tenant_id	uuid NOT NULL,
	id		uuid NOT NULL DEFAULT gen_random_uuid(),
	assessment_id	uuid NOT NULL,
	enrollment_id	uuid NOT NULL,
	user_id		uuid NOT NULL,
	attempt		integer NOT NULL,
	submitted_at	timestamptz NOT NULL DEFAULT clock_timestamp(),
	answers		jsonb,
	status		text NOT NULL DEFAULT 'graded',
	score		numeric,		-- percent before any penalty
	late		boolean NOT NULL DEFAULT false,
	days_late	integer NOT NULL DEFAULT 0,
	penalty		numeric NOT NULL DEFAULT 0,	-- percent of the score taken
	final_score	numeric,
	passed		boolean,
	detail		jsonb,			-- per-question results
	PRIMARY KEY (tenant_id, id),
	UNIQUE (tenant_id, assessment_id, enrollment_id, attempt),
	FOREIGN KEY (tenant_id, assessment_id) REFERENCES assessments (tenant_id, id),
	FOREIGN KEY (tenant_id, enrollment_id) REFERENCES enrollments (tenant_id, id)
);
CREATE INDEX submissions_enrollment ON submissions (tenant_id, enrollment_id, assessment_id);

DO $$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['programs', 'modules', 'module_prerequisites',
	    'lessons', 'assessments', 'quiz_questions', 'cohorts',
	    'cohort_instructors', 'enrollments', 'lesson_completions',
	    'extensions', 'submissions']
	LOOP
		EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
		EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
		EXECUTE format('CREATE POLICY %I ON %I USING (tenant_id = '
		    'current_tenant()) WITH CHECK (tenant_id = current_tenant())',
		    t || '_tenant', t);
	END LOOP;
END
$$;
GRANT USAGE ON SEQUENCE waitlist_seq TO cohortd_app;

-- Is the program visible to a learner: published, and the learner holds an
-- active or completed enrollment in one of its cohorts?
CREATE FUNCTION learner_sees_program(p_program uuid, p_user uuid)
	RETURNS boolean LANGUAGE sql STABLE
AS $$
	SELECT EXISTS (SELECT 1 FROM programs p
	    JOIN cohorts c ON c.tenant_id = p.tenant_id AND c.program_id = p.id
	    JOIN enrollments e ON e.tenant_id = c.tenant_id AND e.cohort_id = c.id
	    WHERE p.tenant_id = current_tenant() AND p.id = p_program
	      AND p.status = 'published' AND e.user_id = p_user
	      AND e.state IN ('active', 'completed'))
$$;

-- May this caller see the cohort?  Admins all, instructors theirs,
-- learners those they are enrolled in.
CREATE FUNCTION cohort_visible(p_cohort uuid, p_role text, p_user uuid)
	RETURNS boolean LANGUAGE sql STABLE
AS $$
	SELECT EXISTS (SELECT 1 FROM cohorts c WHERE c.tenant_id = current_tenant()
	      AND c.id = p_cohort) AND (p_role = 'admin'
	    OR (p_role = 'instructor' AND EXISTS (SELECT 1 FROM cohort_instructors ci
	        WHERE ci.tenant_id = current_tenant() AND ci.cohort_id = p_cohort
	          AND ci.user_id = p_user))
	    OR (p_role = 'learner' AND EXISTS (SELECT 1 FROM enrollments e
	        WHERE e.tenant_id = current_tenant() AND e.cohort_id = p_cohort
	          AND e.user_id = p_user)))
$$;

-- ---- seats ------------------------------------------------------------
-- Every change of an enrollment's state happens in one of these functions,
-- under the cohort's row lock: that lock is what keeps active enrollments
-- within capacity and the waitlist in FIFO order, whatever the concurrency.

-- Promote waitlisted learners, first come first served, while seats remain.
CREATE FUNCTION cohort_promote(p_cohort uuid) RETURNS integer
	LANGUAGE plpgsql
AS $$
DECLARE
	cap	integer;
	n	integer;
	moved	integer := 0;
BEGIN
	SELECT capacity INTO cap FROM cohorts
	 WHERE tenant_id = current_tenant() AND id = p_cohort FOR UPDATE;
	LOOP
		IF cap IS NOT NULL THEN
			SELECT count(*) INTO n FROM enrollments
			 WHERE tenant_id = current_tenant() AND cohort_id = p_cohort
			   AND state = 'active';
			EXIT WHEN n >= cap;
		END IF;
		UPDATE enrollments SET state = 'active', waitlist_seq = NULL,
		       updated_at = clock_timestamp()
		 WHERE tenant_id = current_tenant() AND id = (
			SELECT id FROM enrollments
			 WHERE tenant_id = current_tenant() AND cohort_id = p_cohort
			   AND state = 'waitlisted'
			 ORDER BY waitlist_seq LIMIT 1);
		EXIT WHEN NOT FOUND;
		moved := moved + 1;
	END LOOP;
	RETURN moved;
END
$$;

-- Enroll users into a cohort.  p_rows: a JSON array of {"user_id"} or
-- {"email", "name"} (the learner is created when the tenant has no such
-- user).  One result per row, in order: outcome 'created', 'existing',
-- 'waitlisted' or 'error' with a message.  A row's failure is contained
-- (its own subtransaction) and never undoes the rows before it.
CREATE FUNCTION enroll_rows(p_cohort uuid, p_rows jsonb, p_source text)
	RETURNS TABLE (row_no integer, outcome text, enrollment_id uuid,
	               user_id uuid, message text)
	LANGUAGE plpgsql
AS $$
DECLARE
	c	cohorts%ROWTYPE;
	r	jsonb;
	i	integer := 0;
	uid	uuid;
	urole	text;
	e	enrollments%ROWTYPE;
	found_e	boolean;
	n_active integer;
	st	text;
BEGIN
	SELECT * INTO c FROM cohorts
	 WHERE tenant_id = current_tenant() AND id = p_cohort FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no such cohort' USING ERRCODE = 'P0002';
	END IF;
	SELECT count(*) INTO n_active FROM enrollments
	 WHERE tenant_id = current_tenant() AND cohort_id = p_cohort
	   AND state = 'active';
	FOR r IN SELECT * FROM jsonb_array_elements(p_rows) LOOP
		i := i + 1;
		BEGIN
			uid := NULL;
			IF r ? 'user_id' THEN
				SELECT u.id, u.role INTO uid, urole FROM users u
				 WHERE u.tenant_id = current_tenant()
				   AND u.id = (r->>'user_id')::uuid AND u.active;
				IF uid IS NULL THEN
					RAISE EXCEPTION 'no such user' USING ERRCODE = 'P0002';
				END IF;
			ELSE
				SELECT u.id, u.role INTO uid, urole FROM users u
				 WHERE u.tenant_id = current_tenant()
				   AND lower(u.email) = lower(r->>'email');
				IF uid IS NULL THEN
					INSERT INTO users (tenant_id, email, name, role)
					VALUES (current_tenant(), r->>'email', r->>'name', 'learner')
					RETURNING id, role INTO uid, urole;
				END IF;
			END IF;
			IF urole <> 'learner' THEN
				RAISE EXCEPTION 'the user is not a learner' USING ERRCODE = 'CH002';
			END IF;
			SELECT * INTO e FROM enrollments en
			 WHERE en.tenant_id = current_tenant() AND en.cohort_id = p_cohort
			   AND en.user_id = uid;
			found_e := FOUND;
			IF found_e AND e.state <> 'withdrawn' THEN
				row_no := i; outcome := 'existing'; enrollment_id := e.id;
				user_id := uid; message := NULL;
				RETURN NEXT;
				CONTINUE;
			END IF;
			IF c.capacity IS NULL OR n_active < c.capacity THEN
				st := 'active';
			ELSIF c.waitlist THEN
				st := 'waitlisted';
			ELSE
				RAISE EXCEPTION 'the cohort is full' USING ERRCODE = 'CH001';
			END IF;
			IF found_e THEN
				UPDATE enrollments SET state = st, source = p_source,
				       waitlist_seq = CASE WHEN st = 'waitlisted'
				           THEN nextval('waitlist_seq') END,
				       updated_at = clock_timestamp(), completed_at = NULL
				 WHERE tenant_id = current_tenant() AND id = e.id;
				enrollment_id := e.id;
			ELSE
				INSERT INTO enrollments (tenant_id, cohort_id, user_id, state,
				       waitlist_seq, source)
				VALUES (current_tenant(), p_cohort, uid, st,
				       CASE WHEN st = 'waitlisted' THEN nextval('waitlist_seq') END,
				       p_source)
				RETURNING id INTO enrollment_id;
			END IF;
			IF st = 'active' THEN
				n_active := n_active + 1;
			END IF;
			row_no := i; user_id := uid; message := NULL;
			outcome := CASE WHEN st = 'active' THEN 'created' ELSE 'waitlisted' END;
			RETURN NEXT;
		EXCEPTION WHEN OTHERS THEN
			row_no := i; outcome := 'error'; enrollment_id := NULL;
			user_id := uid; message := SQLERRM;
			RETURN NEXT;
		END;
	END LOOP;
END
$$;

-- Withdraw an enrollment; a freed seat goes to the waitlist at once.
CREATE FUNCTION enrollment_withdraw(p_enrollment uuid) RETURNS text
	LANGUAGE plpgsql
AS $$
DECLARE
	cid	uuid;
	st	text;
BEGIN
	SELECT cohort_id INTO cid FROM enrollments
	 WHERE tenant_id = current_tenant() AND id = p_enrollment;
	IF cid IS NULL THEN
		RETURN NULL;
	END IF;
	PERFORM 1 FROM cohorts WHERE tenant_id = current_tenant() AND id = cid
	  FOR UPDATE;
	SELECT state INTO st FROM enrollments
	 WHERE tenant_id = current_tenant() AND id = p_enrollment;
	IF st IN ('active', 'waitlisted') THEN
		UPDATE enrollments SET state = 'withdrawn', waitlist_seq = NULL,
		       updated_at = clock_timestamp()
		 WHERE tenant_id = current_tenant() AND id = p_enrollment;
		PERFORM cohort_promote(cid);
	END IF;
	RETURN st;
END
$$;

-- ---- progress ----------------------------------------------------------

-- A module is complete for an enrollment when every lesson is done and
-- every assessment has a passing submission.
CREATE FUNCTION module_complete(p_enrollment uuid, p_module uuid)
	RETURNS boolean LANGUAGE sql STABLE
AS $$
	SELECT NOT EXISTS (SELECT 1 FROM lessons l
	    WHERE l.tenant_id = current_tenant() AND l.module_id = p_module
	      AND NOT EXISTS (SELECT 1 FROM lesson_completions lc
	          WHERE lc.tenant_id = current_tenant()
	            AND lc.enrollment_id = p_enrollment AND lc.lesson_id = l.id))
	   AND NOT EXISTS (SELECT 1 FROM assessments a
	    WHERE a.tenant_id = current_tenant() AND a.module_id = p_module
	      AND NOT EXISTS (SELECT 1 FROM submissions s
	          WHERE s.tenant_id = current_tenant()
	            AND s.enrollment_id = p_enrollment
	            AND s.assessment_id = a.id AND s.passed))
$$;

-- The first prerequisite of p_module not complete yet, or NULL.
CREATE FUNCTION module_blocker(p_enrollment uuid, p_module uuid)
	RETURNS TABLE (id uuid, title text) LANGUAGE sql STABLE
AS $$
	SELECT m.id, m.title FROM module_prerequisites mp
	  JOIN modules m ON m.tenant_id = mp.tenant_id AND m.id = mp.prerequisite_id
	 WHERE mp.tenant_id = current_tenant() AND mp.module_id = p_module
	   AND NOT module_complete(p_enrollment, m.id)
	 ORDER BY m.position LIMIT 1
$$;

-- Mark the enrollment completed once every module of its program is.
CREATE FUNCTION enrollment_refresh(p_enrollment uuid) RETURNS text
	LANGUAGE plpgsql
AS $$
DECLARE
	e	enrollments%ROWTYPE;
	pid	uuid;
BEGIN
	SELECT * INTO e FROM enrollments
	 WHERE tenant_id = current_tenant() AND id = p_enrollment;
	UPDATE enrollments SET last_activity_at = clock_timestamp()
	 WHERE tenant_id = current_tenant() AND id = p_enrollment;
	IF e.state <> 'active' THEN
		RETURN e.state;
	END IF;
	SELECT program_id INTO pid FROM cohorts
	 WHERE tenant_id = current_tenant() AND id = e.cohort_id;
	IF EXISTS (SELECT 1 FROM modules m WHERE m.tenant_id = current_tenant()
	    AND m.program_id = pid) AND NOT EXISTS (SELECT 1 FROM modules m
	    WHERE m.tenant_id = current_tenant() AND m.program_id = pid
	      AND NOT module_complete(p_enrollment, m.id)) THEN
		UPDATE enrollments SET state = 'completed',
		       completed_at = clock_timestamp(), updated_at = clock_timestamp()
		 WHERE tenant_id = current_tenant() AND id = p_enrollment;
		RETURN 'completed';
	END IF;
	RETURN 'active';
END
$$;

-- One enrollment's progress: per module lessons done, best scores,
-- completeness; overall percent of lessons done and assessments passed.
CREATE FUNCTION enrollment_progress(p_enrollment uuid) RETURNS jsonb
	LANGUAGE sql STABLE
AS $$
	WITH e AS (
		SELECT en.*, c.program_id FROM enrollments en
		  JOIN cohorts c ON c.tenant_id = en.tenant_id AND c.id = en.cohort_id
		 WHERE en.tenant_id = current_tenant() AND en.id = p_enrollment
	), mods AS (
		SELECT m.id, m.title, m.position,
		       (SELECT count(*) FROM lessons l WHERE l.tenant_id = m.tenant_id
		         AND l.module_id = m.id) AS lessons_total,
		       (SELECT count(*) FROM lessons l JOIN lesson_completions lc
		          ON lc.tenant_id = l.tenant_id AND lc.lesson_id = l.id
		         WHERE l.tenant_id = m.tenant_id AND l.module_id = m.id
		           AND lc.enrollment_id = p_enrollment) AS lessons_done,
		       (SELECT coalesce(jsonb_agg(jsonb_build_object(
		           'assessment_id', a.id, 'title', a.title,
		           'best_score', (SELECT max(s.final_score) FROM submissions s
		               WHERE s.tenant_id = a.tenant_id AND s.assessment_id = a.id
		                 AND s.enrollment_id = p_enrollment),
		           'attempts', (SELECT count(*) FROM submissions s
		               WHERE s.tenant_id = a.tenant_id AND s.assessment_id = a.id
		                 AND s.enrollment_id = p_enrollment),
		           'passed', EXISTS (SELECT 1 FROM submissions s
		               WHERE s.tenant_id = a.tenant_id AND s.assessment_id = a.id
		                 AND s.enrollment_id = p_enrollment AND s.passed))
		           ORDER BY a.position), '[]') FROM assessments a
		         WHERE a.tenant_id = m.tenant_id AND a.module_id = m.id)
		           AS assessments,
		       module_complete(p_enrollment, m.id) AS complete
		  FROM modules m, e
		 WHERE m.tenant_id = current_tenant() AND m.program_id = e.program_id
	)
	SELECT jsonb_build_object(
		'enrollment_id', e.id, 'user_id', e.user_id, 'state', e.state,
		'last_activity_at', rfc3339(e.last_activity_at),
		'modules', coalesce((SELECT jsonb_agg(jsonb_build_object(
			'module_id', id, 'title', title,
			'lessons_done', lessons_done, 'lessons_total', lessons_total,
			'assessments', assessments, 'complete', complete)
			ORDER BY position) FROM mods), '[]'),
		'percent', coalesce((SELECT round(100.0 * (sum(lessons_done) +
			sum((SELECT count(*) FROM jsonb_array_elements(assessments) x
			     WHERE (x->>'passed')::boolean))) / nullif(sum(lessons_total) +
			sum(jsonb_array_length(assessments)), 0), 1) FROM mods), 0))
	  FROM e
$$;
