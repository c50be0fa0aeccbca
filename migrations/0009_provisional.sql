-- 0009_provisional.sql - grades and verifications that wait for a quiet
-- host: provisional grades re-measured by 'rebench' jobs, jobs that wait
-- until not_before, progress events per submission (server-sent), and
-- the grading counters /metrics reads.

-- Accepted, but the speedup could not be measured on clean samples: the
-- score holds correctness only until a rebench job measures it again.
ALTER TABLE submissions ADD COLUMN provisional boolean NOT NULL DEFAULT false;

ALTER TABLE grade_jobs DROP CONSTRAINT grade_jobs_kind_check;
ALTER TABLE grade_jobs ADD CONSTRAINT grade_jobs_kind_check
	CHECK (kind IN ('submission', 'verify', 'rebench'));
-- A job that waits for a quiet host is queued again with a back-off: it
-- is not claimed before not_before (NULL: at once).  waiting_since is
-- when it first waited, which bounds how long it keeps trying; tries
-- counts the measurements it has made.
ALTER TABLE grade_jobs ADD COLUMN not_before timestamptz;
ALTER TABLE grade_jobs ADD COLUMN waiting_since timestamptz;
ALTER TABLE grade_jobs ADD COLUMN tries integer NOT NULL DEFAULT 0;

-- The claim's order: first gradings, then re-measurements, oldest first.
CREATE INDEX grade_jobs_claim ON grade_jobs ((kind = 'rebench'), created_at)
	WHERE state IN ('queued', 'running');

-- First gradings and verifications before re-measurements: a learner
-- waiting for a first grade outranks a grade that already counts.  A
-- rebench job whose worker was lost too often leaves its submission as
-- it is (graded, provisional), instead of failing a grade it has.
CREATE OR REPLACE FUNCTION grade_claim(p_worker text, p_lease_seconds integer,
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
		 WHERE (g.state = 'queued' AND (g.not_before IS NULL OR g.not_before <= now()))
		    OR (g.state = 'running' AND g.lease_until < now())
		 ORDER BY g.kind = 'rebench', g.created_at FOR UPDATE SKIP LOCKED LIMIT 1;
		IF NOT FOUND THEN
			RETURN;
		END IF;
		IF j.attempts >= p_max_attempts THEN
			-- Lost too many workers: give up on it, visibly.
			UPDATE grade_jobs g SET state = 'failed', updated_at = clock_timestamp(),
			       lease_token = NULL, lease_until = NULL,
			       last_error = coalesce(j.last_error, 'worker lost')
			 WHERE g.tenant_id = j.tenant_id AND g.id = j.id;
			PERFORM set_config('cohortd.tenant_id', j.tenant_id::text, true);
			UPDATE submissions s SET status = 'failed', verdict = 'internal_error',
			       updated_at = clock_timestamp(), result = jsonb_build_object(
			       'message', 'grading failed ' || j.attempts || ' times: ' ||
			       coalesce(j.last_error, 'worker lost'))
			 WHERE j.kind = 'submission' AND s.tenant_id = j.tenant_id
			   AND s.id = j.submission_id;
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

-- What a submission's event stream replays and follows: its status
-- changes (written by the trigger below, whoever changes the row) and
-- the benchmark's rounds (written by the grader).  The id orders them
-- and is the stream's Last-Event-ID.  Kept a day.
CREATE TABLE submission_events (
	tenant_id	uuid NOT NULL,
	submission_id	uuid NOT NULL,
	id		bigint GENERATED ALWAYS AS IDENTITY,
	kind		text NOT NULL CHECK (kind IN ('status', 'round')),
	data		jsonb NOT NULL,
	at		timestamptz NOT NULL DEFAULT clock_timestamp(),
	PRIMARY KEY (tenant_id, submission_id, id),
	FOREIGN KEY (tenant_id, submission_id) REFERENCES submissions (tenant_id, id)
		ON DELETE CASCADE
);
CREATE INDEX submission_events_age ON submission_events (at);
ALTER TABLE submission_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE submission_events FORCE ROW LEVEL SECURITY;
-- Graders prune old events of every tenant, as they claim jobs.
CREATE POLICY submission_events_tenant ON submission_events
	USING (tenant_id = current_tenant() OR worker_scope())
	WITH CHECK (tenant_id = current_tenant());

-- Open streams are woken by this notification (payload: the submission
-- id), never by polling (daemon/http.c).
CREATE FUNCTION submission_events_notify() RETURNS trigger
	LANGUAGE plpgsql
AS $$
BEGIN
	PERFORM pg_notify('cohortd_submission_events', NEW.submission_id::text);
	RETURN NULL;
END
$$;
CREATE TRIGGER submission_events_notify AFTER INSERT ON submission_events
	FOR EACH ROW EXECUTE FUNCTION submission_events_notify();

CREATE FUNCTION submission_status_event() RETURNS trigger
	LANGUAGE plpgsql
AS $$
BEGIN
	INSERT INTO submission_events (tenant_id, submission_id, kind, data)
	VALUES (NEW.tenant_id, NEW.id, 'status', jsonb_build_object('id', NEW.id,
	        'status', NEW.status, 'verdict', NEW.verdict,
	        'score', round(NEW.score, 2), 'final_score', round(NEW.final_score, 2),
	        'provisional', NEW.provisional));
	RETURN NULL;
END
$$;
-- Exercise submissions only: quizzes are graded as they are taken.  A
-- row written already graded (a bulk load) has no history to replay: its
-- stream starts from the row itself.
CREATE TRIGGER submission_status_insert AFTER INSERT ON submissions
	FOR EACH ROW WHEN (NEW.exercise_id IS NOT NULL AND NEW.status = 'queued')
	EXECUTE FUNCTION submission_status_event();
CREATE TRIGGER submission_status_update AFTER UPDATE ON submissions
	FOR EACH ROW WHEN (NEW.exercise_id IS NOT NULL AND
	    (OLD.status IS DISTINCT FROM NEW.status OR
	     OLD.provisional IS DISTINCT FROM NEW.provisional OR
	     OLD.graded_at IS DISTINCT FROM NEW.graded_at))
	EXECUTE FUNCTION submission_status_event();

-- Grading counters, platform-wide and owned by no tenant: graders add to
-- them in the transaction that records a result; /metrics reads them.
-- label is the Prometheus label set as written, e.g. verdict="accepted".
CREATE TABLE grade_counters (
	name		text NOT NULL,
	label		text NOT NULL DEFAULT '',
	value		double precision NOT NULL DEFAULT 0,
	PRIMARY KEY (name, label)
);

-- What /metrics shows of grading: the counters, and the queue counted
-- now.  Every tenant's jobs are counted (only counted), under the
-- workers' scope for the length of the call.
CREATE FUNCTION grade_metrics()
	RETURNS TABLE (name text, label text, value double precision)
	LANGUAGE plpgsql
AS $$
DECLARE
	old	text := coalesce(current_setting('cohortd.scope', true), '');
BEGIN
	PERFORM set_config('cohortd.scope', 'worker', true);
	RETURN QUERY SELECT c.name, c.label, c.value FROM grade_counters c;
	RETURN QUERY SELECT 'grade_queue_jobs'::text, format('kind="%s",state="%s"',
	       q.kind, q.st), count(*)::float8 FROM (SELECT g.kind,
	       CASE WHEN g.state = 'running' THEN 'running'
	            WHEN g.not_before > now() THEN 'waiting' ELSE 'queued' END AS st
	       FROM grade_jobs g WHERE g.state IN ('queued', 'running')) q
	       GROUP BY q.kind, q.st;
	RETURN QUERY SELECT 'provisional_grades_pending'::text, ''::text,
	       count(*)::float8 FROM grade_jobs g
	       WHERE g.kind = 'rebench' AND g.state IN ('queued', 'running');
	RETURN QUERY SELECT 'verifications_waiting_for_quiet'::text, ''::text,
	       count(*)::float8 FROM grade_jobs g
	       WHERE g.kind = 'verify' AND g.state IN ('queued', 'running')
	         AND g.waiting_since IS NOT NULL;
	PERFORM set_config('cohortd.scope', old, true);
END
$$;
