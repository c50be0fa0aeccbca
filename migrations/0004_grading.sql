-- 0004_grading.sql - C concurrency exercises, their versions, exercise
-- submissions and the grading queue.

CREATE FUNCTION worker_scope() RETURNS boolean
	LANGUAGE sql STABLE
	AS $$ SELECT coalesce(current_setting('cohortd.scope', true), '') = 'worker' $$;

CREATE TABLE exercises (
	tenant_id	uuid NOT NULL REFERENCES tenants (id),
	id		uuid NOT NULL DEFAULT gen_random_uuid(),
	slug		text NOT NULL CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'
			AND length(slug) <= 63),
	current_version	integer NOT NULL DEFAULT 1,
	created_at	timestamptz NOT NULL DEFAULT clock_timestamp(),
	updated_at	timestamptz NOT NULL DEFAULT clock_timestamp(),
	version		integer NOT NULL DEFAULT 1,	-- the row's, for ETags
	PRIMARY KEY (tenant_id, id),
	UNIQUE (tenant_id, slug)
);
CREATE INDEX exercises_list ON exercises (tenant_id, created_at, id);

-- Each change is a new version; submissions keep the one they were
-- graded against.  Verification grades the version's own reference.
CREATE TABLE exercise_versions (
	tenant_id	uuid NOT NULL,
	exercise_id	uuid NOT NULL,
	version		integer NOT NULL,
	title		text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
	statement	text NOT NULL DEFAULT '' CHECK (octet_length(statement) <= 65536),
	files		jsonb NOT NULL,		-- exercise.h, harness.c, reference.c, starter.c
	spec		jsonb NOT NULL,		-- tests, race_tests, benchmark, limits, checker, scoring
	status		text NOT NULL DEFAULT 'verifying'
			CHECK (status IN ('verifying', 'ready', 'rejected')),
	reason		text,
	verification	jsonb,
	created_at	timestamptz NOT NULL DEFAULT clock_timestamp(),
	PRIMARY KEY (tenant_id, exercise_id, version),
	FOREIGN KEY (tenant_id, exercise_id) REFERENCES exercises (tenant_id, id)
		ON DELETE CASCADE
);

ALTER TABLE assessments ADD COLUMN exercise_id uuid;
ALTER TABLE assessments ADD FOREIGN KEY (tenant_id, exercise_id)
	REFERENCES exercises (tenant_id, id);
ALTER TABLE assessments ADD CHECK ((kind = 'exercise') = (exercise_id IS NOT NULL));

ALTER TABLE submissions ADD COLUMN source text
	CHECK (octet_length(source) <= 65536);
ALTER TABLE submissions ADD COLUMN exercise_id uuid;
ALTER TABLE submissions ADD COLUMN exercise_version integer;
ALTER TABLE submissions ADD COLUMN verdict text;
ALTER TABLE submissions ADD COLUMN result jsonb;
ALTER TABLE submissions ADD COLUMN graded_at timestamptz;
ALTER TABLE submissions ADD COLUMN updated_at timestamptz NOT NULL
	DEFAULT clock_timestamp();
ALTER TABLE submissions ADD CHECK (status IN ('queued', 'compiling',
	'testing', 'benchmarking', 'graded', 'failed'));
-- Every grade a submission ever received (regrades keep history).
CREATE TABLE grade_history (
	tenant_id	uuid NOT NULL,
	submission_id	uuid NOT NULL,
	graded_at	timestamptz NOT NULL DEFAULT clock_timestamp(),
	verdict		text,
	score		numeric,
	final_score	numeric,
	result		jsonb,
	PRIMARY KEY (tenant_id, submission_id, graded_at),
	FOREIGN KEY (tenant_id, submission_id) REFERENCES submissions (tenant_id, id)
);

-- The grading queue.  A job is written in the transaction that creates
-- its submission (or exercise version); workers claim it with FOR UPDATE
-- SKIP LOCKED and hold it by a lease they renew; an expired lease puts it
-- back in the queue; a job that failed max_attempts times ends 'failed'.
CREATE TABLE grade_jobs (
	tenant_id	uuid NOT NULL,
	id		uuid NOT NULL DEFAULT gen_random_uuid(),
	kind		text NOT NULL CHECK (kind IN ('submission', 'verify')),
	submission_id	uuid,
	exercise_id	uuid,
	exercise_version integer,
	state		text NOT NULL DEFAULT 'queued'
			CHECK (state IN ('queued', 'running', 'done', 'failed')),
	attempts	integer NOT NULL DEFAULT 0,
	lease_token	uuid,
	lease_until	timestamptz,
	worker		text,
	last_error	text,
	created_at	timestamptz NOT NULL DEFAULT clock_timestamp(),
	updated_at	timestamptz NOT NULL DEFAULT clock_timestamp(),
	PRIMARY KEY (tenant_id, id)
);
-- What workers scan: pending and expired work, oldest first.
CREATE INDEX grade_jobs_pending ON grade_jobs (created_at)
	WHERE state IN ('queued', 'running');

DO $$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['exercises', 'exercise_versions', 'grade_history']
	LOOP
		EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
		EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
		EXECUTE format('CREATE POLICY %I ON %I USING (tenant_id = '
		    'current_tenant()) WITH CHECK (tenant_id = current_tenant())',
		    t || '_tenant', t);
	END LOOP;
END
$$;
ALTER TABLE grade_jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE grade_jobs FORCE ROW LEVEL SECURITY;
-- Workers serve every tenant, but only through the queue: the claim is
-- the one cross-tenant read, and the job then scopes the work.
CREATE POLICY grade_jobs_tenant ON grade_jobs
	USING (tenant_id = current_tenant() OR worker_scope())
	WITH CHECK (tenant_id = current_tenant() OR worker_scope());

-- Wake idle workers when a job is queued (delivered at commit).
CREATE FUNCTION grade_jobs_notify() RETURNS trigger
	LANGUAGE plpgsql
AS $$
BEGIN
	PERFORM pg_notify('cohortd_grade_jobs', '');
	RETURN NULL;
END
$$;
CREATE TRIGGER grade_jobs_notify AFTER INSERT OR UPDATE OF state ON grade_jobs
	FOR EACH ROW WHEN (NEW.state = 'queued') EXECUTE FUNCTION grade_jobs_notify();

-- Claim the oldest runnable job for a worker: queued, or running with an
-- expired lease.  Returns nothing when there is none.
CREATE FUNCTION grade_claim(p_worker text, p_lease_seconds integer,
    p_max_attempts integer)
	RETURNS TABLE (tenant_id uuid, id uuid, kind text, submission_id uuid,
	               exercise_id uuid, exercise_version integer,
	               lease_token uuid, attempts integer)
	LANGUAGE plpgsql
AS $$
DECLARE
	j	grade_jobs%ROWTYPE;
BEGIN
	LOOP
		SELECT * INTO j FROM grade_jobs g
		 WHERE g.state = 'queued' OR (g.state = 'running' AND g.lease_until < now())
		 ORDER BY g.created_at FOR UPDATE SKIP LOCKED LIMIT 1;
		IF NOT FOUND THEN
			RETURN;
		END IF;
		IF j.attempts >= p_max_attempts THEN
			-- Lost too many workers: give up on it, visibly.
			UPDATE grade_jobs g SET state = 'failed', updated_at = clock_timestamp(),
			       last_error = coalesce(j.last_error, 'worker lost')
			 WHERE g.tenant_id = j.tenant_id AND g.id = j.id;
			PERFORM set_config('cohortd.tenant_id', j.tenant_id::text, true);
			UPDATE submissions s SET status = 'failed', verdict = 'internal_error',
			       updated_at = clock_timestamp(), result = jsonb_build_object(
			       'message', 'grading failed ' || j.attempts || ' times: ' ||
			       coalesce(j.last_error, 'worker lost'))
			 WHERE s.tenant_id = j.tenant_id AND s.id = j.submission_id;
			UPDATE exercise_versions v SET status = 'rejected',
			       reason = 'verification failed: ' || coalesce(j.last_error, 'worker lost')
			 WHERE j.kind = 'verify' AND v.tenant_id = j.tenant_id
			   AND v.exercise_id = j.exercise_id AND v.version = j.exercise_version;
			PERFORM set_config('cohortd.tenant_id', '', true);
			CONTINUE;
		END IF;
		UPDATE grade_jobs g SET state = 'running', attempts = g.attempts + 1,
		       lease_token = gen_random_uuid(),
		       lease_until = now() + p_lease_seconds * interval '1 second',
		       worker = p_worker, updated_at = clock_timestamp()
		 WHERE g.tenant_id = j.tenant_id AND g.id = j.id
		RETURNING g.tenant_id, g.id, g.kind, g.submission_id, g.exercise_id,
		          g.exercise_version, g.lease_token, g.attempts
		INTO tenant_id, id, kind, submission_id, exercise_id, exercise_version,
		     lease_token, attempts;
		RETURN NEXT;
		RETURN;
	END LOOP;
END
$$;
