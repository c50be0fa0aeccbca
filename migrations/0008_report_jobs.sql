-- 0008_report_jobs.sql - the platform overview a page at a time, and
-- report jobs: a report rendered whole in the background, its body kept
-- here for the one who asked to download (api/report_jobs.c).

-- The overview, now paged like every list: tenants in creation order
-- after (p_after_ts, p_after_id), at most p_limit of them, each counted
-- under its own tenant setting so row-level security holds throughout.
DROP FUNCTION tenant_overview();
CREATE FUNCTION tenant_overview(p_after_ts timestamptz, p_after_id uuid,
    p_limit integer)
	RETURNS TABLE (tenant_id uuid, slug text, name text, users bigint,
	               cohorts bigint, active_learners bigint,
	               submissions_30d bigint, queue_depth bigint,
	               created_at timestamptz)
	LANGUAGE plpgsql
AS $$
DECLARE
	t	record;
BEGIN
	IF NOT platform_scope() THEN
		RETURN;
	END IF;
	FOR t IN SELECT tn.id, tn.slug, tn.name, tn.created_at FROM tenants tn
	    WHERE (tn.created_at, tn.id) > (p_after_ts, p_after_id)
	    ORDER BY tn.created_at, tn.id LIMIT p_limit LOOP
		PERFORM set_config('cohortd.tenant_id', t.id::text, true);
		tenant_id := t.id;
		slug := t.slug;
		name := t.name;
		created_at := t.created_at;
		SELECT count(*) INTO users FROM users u WHERE u.tenant_id = t.id
		   AND u.active;
		SELECT count(*) INTO cohorts FROM cohorts c WHERE c.tenant_id = t.id;
		SELECT count(DISTINCT e.user_id) INTO active_learners FROM enrollments e
		 WHERE e.tenant_id = t.id AND e.state = 'active';
		SELECT count(*) INTO submissions_30d FROM submissions s
		 WHERE s.tenant_id = t.id AND s.submitted_at > now() - interval '30 days';
		SELECT count(*) INTO queue_depth FROM grade_jobs g
		 WHERE g.tenant_id = t.id AND g.state IN ('queued', 'running');
		RETURN NEXT;
	END LOOP;
	PERFORM set_config('cohortd.tenant_id', '', true);
END
$$;

-- A report asked for in the background.  The request's view is kept
-- with it (role and user: an instructor's job sees their cohorts only).
CREATE TABLE report_jobs (
	tenant_id	uuid NOT NULL REFERENCES tenants (id),
	id		uuid NOT NULL DEFAULT gen_random_uuid(),
	report		text NOT NULL,
	args		jsonb NOT NULL DEFAULT '{}',	-- id, cohort_id, inactive_days
	format		text NOT NULL CHECK (format IN ('json', 'csv')),
	role		text NOT NULL CHECK (role IN ('admin', 'instructor')),
	user_id		uuid,				-- NULL for an API key
	requested_by	uuid NOT NULL,			-- the user or the API key
	state		text NOT NULL DEFAULT 'queued'
			CHECK (state IN ('queued', 'running', 'done', 'failed')),
	attempts	integer NOT NULL DEFAULT 0,
	lease_token	uuid,
	lease_until	timestamptz,
	error		text,
	rows		bigint,
	bytes		bigint,
	created_at	timestamptz NOT NULL DEFAULT clock_timestamp(),
	started_at	timestamptz,
	finished_at	timestamptz,
	expires_at	timestamptz,			-- a day after it ended
	PRIMARY KEY (tenant_id, id)
);
CREATE INDEX report_jobs_pending ON report_jobs (created_at)
	WHERE state IN ('queued', 'running');
-- A tenant's jobs in progress: its queue limit, and fair claims.
CREATE INDEX report_jobs_active ON report_jobs (tenant_id)
	WHERE state IN ('queued', 'running');
CREATE INDEX report_jobs_list ON report_jobs (tenant_id, created_at, id);
CREATE INDEX report_jobs_expiry ON report_jobs (expires_at);

-- The body, in pieces of about 256 KiB cut at row boundaries.
CREATE TABLE report_chunks (
	tenant_id	uuid NOT NULL,
	job_id		uuid NOT NULL,
	seq		integer NOT NULL,
	body		text NOT NULL,
	PRIMARY KEY (tenant_id, job_id, seq),
	FOREIGN KEY (tenant_id, job_id) REFERENCES report_jobs (tenant_id, id)
		ON DELETE CASCADE
);

ALTER TABLE report_jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE report_jobs FORCE ROW LEVEL SECURITY;
-- Runners serve every tenant through the claim, as graders do.
CREATE POLICY report_jobs_tenant ON report_jobs
	USING (tenant_id = current_tenant() OR worker_scope())
	WITH CHECK (tenant_id = current_tenant() OR worker_scope());
ALTER TABLE report_chunks ENABLE ROW LEVEL SECURITY;
ALTER TABLE report_chunks FORCE ROW LEVEL SECURITY;
CREATE POLICY report_chunks_tenant ON report_chunks
	USING (tenant_id = current_tenant())
	WITH CHECK (tenant_id = current_tenant());

CREATE FUNCTION report_jobs_notify() RETURNS trigger
	LANGUAGE plpgsql
AS $$
BEGIN
	PERFORM pg_notify('cohortd_report_jobs', '');
	RETURN NULL;
END
$$;
CREATE TRIGGER report_jobs_notify AFTER INSERT OR UPDATE OF state ON report_jobs
	FOR EACH ROW WHEN (NEW.state = 'queued') EXECUTE FUNCTION report_jobs_notify();

-- Claim a runnable job (queued, or running under an expired lease) for
-- p_lease_seconds: of the tenant with the fewest jobs running, the
-- oldest, so one tenant's many jobs do not hold up everyone else's.  A
-- job whose runner was lost p_max_attempts times ends 'failed'.
CREATE FUNCTION report_claim(p_lease_seconds integer, p_max_attempts integer)
	RETURNS TABLE (tenant_id uuid, id uuid, report text, args jsonb,
	               format text, role text, user_id uuid,
	               requested_by uuid, lease_token uuid)
	LANGUAGE plpgsql
AS $$
DECLARE
	j	report_jobs%ROWTYPE;
BEGIN
	LOOP
		SELECT * INTO j FROM report_jobs r
		 WHERE r.state = 'queued' OR (r.state = 'running' AND r.lease_until < now())
		 ORDER BY (SELECT count(*) FROM report_jobs b
		            WHERE b.tenant_id = r.tenant_id AND b.state = 'running'
		              AND b.lease_until >= now()), r.created_at
		 FOR UPDATE SKIP LOCKED LIMIT 1;
		IF NOT FOUND THEN
			RETURN;
		END IF;
		IF j.attempts >= p_max_attempts THEN
			UPDATE report_jobs r SET state = 'failed', lease_token = NULL,
			       lease_until = NULL, finished_at = clock_timestamp(),
			       expires_at = clock_timestamp() + interval '1 day',
			       error = coalesce(j.error, 'the report runner was lost ' ||
			       j.attempts || ' times')
			 WHERE r.tenant_id = j.tenant_id AND r.id = j.id;
			CONTINUE;
		END IF;
		UPDATE report_jobs r SET state = 'running', attempts = r.attempts + 1,
		       lease_token = gen_random_uuid(),
		       lease_until = now() + p_lease_seconds * interval '1 second',
		       started_at = clock_timestamp()
		 WHERE r.tenant_id = j.tenant_id AND r.id = j.id
		RETURNING r.tenant_id, r.id, r.report, r.args, r.format, r.role,
		          r.user_id, r.requested_by, r.lease_token
		INTO tenant_id, id, report, args, format, role, user_id,
		     requested_by, lease_token;
		RETURN NEXT;
		RETURN;
	END LOOP;
END
$$;
