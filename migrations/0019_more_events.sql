-- 0019_more_events.sql - the webhook events 0014 left out:
-- enrollment.completed, quiz.submitted and report_job.done, written by
-- triggers in the transaction of the change like the others.

CREATE OR REPLACE FUNCTION enrollment_events() RETURNS trigger
	LANGUAGE plpgsql
AS $$
DECLARE
	t	text;
BEGIN
	IF TG_OP = 'INSERT' THEN
		t := 'enrollment.created';
	ELSIF OLD.state = 'waitlisted' AND NEW.state = 'active' THEN
		t := 'enrollment.promoted';
	ELSIF OLD.state <> 'withdrawn' AND NEW.state = 'withdrawn' THEN
		t := 'enrollment.withdrawn';
	ELSIF OLD.state <> 'completed' AND NEW.state = 'completed' THEN
		t := 'enrollment.completed';
	ELSE
		RETURN NULL;
	END IF;
	PERFORM webhook_emit(NEW.tenant_id, t, jsonb_build_object(
	    'enrollment_id', NEW.id, 'cohort_id', NEW.cohort_id,
	    'user_id', NEW.user_id, 'state', NEW.state));
	RETURN NULL;
END
$$;

-- A quiz's answers are recorded graded at once; an exercise's source
-- waits in the queue.  So a submission inserted with answers is a quiz's.
CREATE FUNCTION quiz_submitted_event() RETURNS trigger
	LANGUAGE plpgsql
AS $$
BEGIN
	IF NEW.answers IS NULL THEN
		RETURN NULL;
	END IF;
	PERFORM webhook_emit(NEW.tenant_id, 'quiz.submitted',
	    jsonb_build_object('submission_id', NEW.id, 'assessment_id',
	    NEW.assessment_id, 'enrollment_id', NEW.enrollment_id, 'user_id',
	    NEW.user_id, 'attempt', NEW.attempt, 'score', NEW.score,
	    'final_score', NEW.final_score, 'passed', NEW.passed));
	RETURN NULL;
END
$$;
CREATE TRIGGER quiz_submitted_webhooks AFTER INSERT ON submissions
	FOR EACH ROW EXECUTE FUNCTION quiz_submitted_event();

CREATE FUNCTION report_job_done_event() RETURNS trigger
	LANGUAGE plpgsql
AS $$
BEGIN
	IF NEW.state <> 'done' OR OLD.state = 'done' THEN
		RETURN NULL;
	END IF;
	PERFORM webhook_emit(NEW.tenant_id, 'report_job.done',
	    jsonb_build_object('report_job_id', NEW.id, 'report', NEW.report,
	    'format', NEW.format, 'rows', NEW.rows, 'bytes', NEW.bytes));
	RETURN NULL;
END
$$;
CREATE TRIGGER report_job_webhooks AFTER UPDATE OF state ON report_jobs
	FOR EACH ROW EXECUTE FUNCTION report_job_done_event();
