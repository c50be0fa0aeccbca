-- 0005_reports.sql - what the administrator reports need from SQL.

-- When an enrollment completed a module: the later of its last lesson
-- completion and its first passing submission of each assessment; NULL
-- while the module is not complete.
CREATE FUNCTION module_completed_at(p_enrollment uuid, p_module uuid)
	RETURNS timestamptz LANGUAGE sql STABLE
AS $$
	SELECT CASE WHEN module_complete(p_enrollment, p_module) THEN
		greatest(
		    (SELECT max(lc.completed_at) FROM lesson_completions lc
		       JOIN lessons l ON l.tenant_id = lc.tenant_id AND l.id = lc.lesson_id
		      WHERE lc.tenant_id = current_tenant()
		        AND lc.enrollment_id = p_enrollment AND l.module_id = p_module),
		    (SELECT max(first_pass) FROM (
		        SELECT min(s.submitted_at) AS first_pass FROM submissions s
		          JOIN assessments a ON a.tenant_id = s.tenant_id
		           AND a.id = s.assessment_id
		         WHERE s.tenant_id = current_tenant()
		           AND s.enrollment_id = p_enrollment
		           AND a.module_id = p_module AND s.passed
		         GROUP BY s.assessment_id) x))
	END
$$;

-- The platform's overview: one row per tenant, each counted under its own
-- tenant setting, so row-level security holds throughout.
CREATE FUNCTION tenant_overview()
	RETURNS TABLE (tenant_id uuid, slug text, name text, users bigint,
	               cohorts bigint, active_learners bigint,
	               submissions_30d bigint, queue_depth bigint)
	LANGUAGE plpgsql
AS $$
DECLARE
	t	record;
BEGIN
	IF NOT platform_scope() THEN
		RETURN;
	END IF;
	FOR t IN SELECT id, tenants.slug, tenants.name FROM tenants
	    ORDER BY tenants.slug LOOP
		PERFORM set_config('cohortd.tenant_id', t.id::text, true);
		tenant_id := t.id;
		slug := t.slug;
		name := t.name;
		SELECT count(*) INTO users FROM users WHERE users.tenant_id = t.id
		   AND users.active;
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
