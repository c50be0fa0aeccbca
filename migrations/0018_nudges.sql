-- 0018_nudges.sql - scheduled notifications (issues #14 and #18): the
-- "due in 24 hours" email, the daily reminder at the learner's
-- reminder_time, re-engagement after 3, 7 and 14 study days without
-- activity, and the webhook event learner.nudged for each.  Rules in
-- docs/LEARNING.md ("Nudges").
--
-- Nothing happens in a request here: a nudge is due because time passed.
-- The outbox's dispatcher (daemon/outbox.c) scans once a
-- COHORTD_NUDGE_INTERVAL, in every API process.  The scan runs in no
-- tenant, and every table it reads is a tenant's under row-level
-- security, so it goes tenant by tenant: it reads the tenants' ids in
-- the platform scope (nudge_tenants(), the one statement that does), then
-- for each tenant, in a transaction of its own, sets the transaction's
-- tenant, as a request's transaction does, and decides and writes in that
-- scope only (nudge_scan_in()).  Every read and write passes the
-- same policies as a request's.  (A SECURITY DEFINER function would not
-- be narrower: the tables FORCE row-level security, so a definer owned
-- by an ordinary role sees no more than its caller, and one owned by a
-- superuser would see past every policy.)  search_path is pinned, and
-- the scopes the caller had are given back at the end.
--
-- Enrollments the demo made (source 'demo') are never nudged, as they
-- get no enrollment email: their addresses are made up.
--
-- Each nudge is recorded in nudges, keyed by what makes it once (the
-- learner and the assessment; the learner's local date; the learner's
-- last activity and the threshold), in the transaction that queues its
-- email and its webhook deliveries.  One process scans a tenant at a
-- time (a transaction-level advisory lock); were two to run anyway, they
-- would insert the same key: one wins, the other waits for its commit and
-- finds the row taken, so nothing is sent twice, and a scan rolled back
-- leaves no record and no message.

-- A tenant's defaults for the nudges a learner can turn off.  No row:
-- both on.
CREATE TABLE nudge_defaults (
	tenant_id	uuid PRIMARY KEY REFERENCES tenants (id),
	daily_reminder	boolean NOT NULL DEFAULT true,
	re_engagement	boolean NOT NULL DEFAULT true,
	updated_at	timestamptz NOT NULL DEFAULT clock_timestamp(),
	version		integer NOT NULL DEFAULT 1
);

-- A learner's choice; NULL follows the tenant's default.
ALTER TABLE learner_preferences ADD COLUMN nudge_daily boolean;
ALTER TABLE learner_preferences ADD COLUMN nudge_reengage boolean;

-- Every nudge made, once each (see above).
CREATE TABLE nudges (
	tenant_id	uuid NOT NULL,
	user_id		uuid NOT NULL,
	kind		text NOT NULL
			CHECK (kind IN ('due_soon', 'daily_reminder', 're_engagement')),
	key		text NOT NULL CHECK (length(key) BETWEEN 1 AND 120),
	-- re_engagement: the last activity, and the threshold reached
	since		timestamptz,
	days		integer,
	created_at	timestamptz NOT NULL DEFAULT clock_timestamp(),
	PRIMARY KEY (tenant_id, user_id, kind, key),
	FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
		ON DELETE CASCADE
);

DO $$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['nudge_defaults', 'nudges']
	LOOP
		EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
		EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
		EXECUTE format('CREATE POLICY %I ON %I USING (tenant_id = '
		    'current_tenant()) WITH CHECK (tenant_id = current_tenant())',
		    t || '_tenant', t);
	END LOOP;
END
$$;

-- The nudges a learner gets, their choice or else the tenant's default.
CREATE FUNCTION learner_nudges(p_user uuid)
	RETURNS TABLE (daily_reminder boolean, re_engagement boolean,
	               daily_choice boolean, re_engagement_choice boolean)
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, public
AS $$
	SELECT coalesce(p.nudge_daily, d.daily_reminder, true),
	       coalesce(p.nudge_reengage, d.re_engagement, true),
	       p.nudge_daily, p.nudge_reengage
	  FROM (SELECT 1) one
	  LEFT JOIN learner_preferences p
	    ON p.tenant_id = current_tenant() AND p.user_id = p_user
	  LEFT JOIN nudge_defaults d ON d.tenant_id = current_tenant()
$$;

CREATE FUNCTION html_escape(p text) RETURNS text
	LANGUAGE sql IMMUTABLE
	SET search_path = pg_catalog
AS $$
	SELECT replace(replace(replace(replace(replace(p, '&', '&amp;'),
	    '<', '&lt;'), '>', '&gt;'), '"', '&quot;'), '''', '&#39;')
$$;

-- Minutes of work a learner finished on p_day in p_tz: lessons completed
-- or reviewed, assessments submitted (their estimates) and review
-- answers (a minute each), as today's plan counts them.
CREATE FUNCTION learner_minutes_on(p_user uuid, p_tz text, p_day date)
	RETURNS integer
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, public
AS $$
	WITH lo AS (SELECT (p_day::timestamp AT TIME ZONE p_tz) AS t0,
	                   ((p_day + 1)::timestamp AT TIME ZONE p_tz) AS t1)
	SELECT (coalesce((SELECT sum(l.estimated_minutes) FROM lo,
	    lesson_completions lc
	    JOIN enrollments e ON e.tenant_id = lc.tenant_id AND e.id = lc.enrollment_id
	    JOIN lessons l ON l.tenant_id = lc.tenant_id AND l.id = lc.lesson_id
	   WHERE lc.tenant_id = current_tenant() AND e.user_id = p_user
	     AND lc.completed_at >= lo.t0 AND lc.completed_at < lo.t1), 0) +
	       coalesce((SELECT sum(l.estimated_minutes) FROM lo,
	    lesson_reviews lr
	    JOIN enrollments e ON e.tenant_id = lr.tenant_id AND e.id = lr.enrollment_id
	    JOIN lessons l ON l.tenant_id = lr.tenant_id AND l.id = lr.lesson_id
	   WHERE lr.tenant_id = current_tenant() AND e.user_id = p_user
	     AND lr.reviewed_at >= lo.t0 AND lr.reviewed_at < lo.t1), 0) +
	       coalesce((SELECT count(*) FROM lo, review_answers ra
	   WHERE ra.tenant_id = current_tenant() AND ra.user_id = p_user
	     AND ra.answered_at >= lo.t0 AND ra.answered_at < lo.t1), 0) +
	       coalesce((SELECT sum(a.estimated_minutes) FROM lo, submissions s
	    JOIN enrollments e ON e.tenant_id = s.tenant_id AND e.id = s.enrollment_id
	    JOIN assessments a ON a.tenant_id = s.tenant_id AND a.id = s.assessment_id
	   WHERE s.tenant_id = current_tenant() AND e.user_id = p_user
	     AND s.submitted_at >= lo.t0 AND s.submitted_at < lo.t1), 0))::integer
$$;

-- A learner's last activity (the same acts that make a streak), or, with
-- none, when they were last enrolled among their active enrollments (a
-- new enrollment is a new start).  Submissions are found through the
-- learner's enrollments, which their index leads with.
CREATE FUNCTION learner_last_activity(p_user uuid) RETURNS timestamptz
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, public
AS $$
	SELECT coalesce(greatest(
	    (SELECT max(lc.completed_at) FROM lesson_completions lc
	       JOIN enrollments e ON e.tenant_id = lc.tenant_id AND e.id = lc.enrollment_id
	      WHERE lc.tenant_id = current_tenant() AND e.user_id = p_user),
	    (SELECT max(lr.reviewed_at) FROM lesson_reviews lr
	       JOIN enrollments e ON e.tenant_id = lr.tenant_id AND e.id = lr.enrollment_id
	      WHERE lr.tenant_id = current_tenant() AND e.user_id = p_user),
	    (SELECT max(ra.answered_at) FROM review_answers ra
	      WHERE ra.tenant_id = current_tenant() AND ra.user_id = p_user),
	    (SELECT max(s.submitted_at) FROM submissions s
	       JOIN enrollments e ON e.tenant_id = s.tenant_id AND e.id = s.enrollment_id
	      WHERE s.tenant_id = current_tenant() AND e.user_id = p_user)),
	    (SELECT max(e.enrolled_at) FROM enrollments e
	      WHERE e.tenant_id = current_tenant() AND e.user_id = p_user
	        AND e.state = 'active'))
$$;

-- Record nudge (p_kind, p_key) for p_user and queue its email and its
-- learner.nudged deliveries, in the transaction's tenant: true when it is
-- new, false when it was made before (nothing queued).
CREATE FUNCTION nudge_send(p_user uuid, p_kind text, p_key text,
    p_since timestamptz, p_days integer, p_to text, p_subject text,
    p_text text, p_html text, p_data jsonb)
	RETURNS boolean
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, public
AS $$
BEGIN
	INSERT INTO nudges (tenant_id, user_id, kind, key, since, days)
	VALUES (current_tenant(), p_user, p_kind, p_key, p_since, p_days)
	ON CONFLICT DO NOTHING;
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	INSERT INTO outbox (tenant_id, channel, event, recipient, subject,
	       body_text, body_html)
	VALUES (current_tenant(), 'email', p_kind, p_to, p_subject, p_text,
	       p_html);
	PERFORM webhook_emit(current_tenant(), 'learner.nudged',
	    jsonb_build_object('user_id', p_user, 'kind', p_kind) || p_data);
	RETURN true;
END
$$;

-- The nudges due now in the transaction's tenant, made: how many.
CREATE FUNCTION nudge_scan_tenant() RETURNS integer
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, public
	-- The planner's estimates for these set-returning functions are
	-- large enough to turn JIT compilation on, which cost seconds a
	-- scan for a tenant with nothing due (2,000 learners: 1.7 s to
	-- 3.8 s with it, on a busy host).
	SET jit = off
AS $$
DECLARE
	r	record;
	n	integer := 0;
	first	text;
BEGIN
	-- Due in 24 hours: an assessment of an active enrollment in a
	-- published program, due (its extension's date, else the cohort's
	-- start plus its due_days) within the next 24 hours, with no
	-- passing submission and none being graded.
	FOR r IN
		WITH due AS MATERIALIZED (
			SELECT e.user_id, a.id AS aid, a.title, c.name AS cohort,
			       coalesce(x.due_at, c.starts_at + a.due_days *
			           interval '1 day') AS due
			  FROM enrollments e
			  JOIN cohorts c ON c.tenant_id = e.tenant_id AND c.id = e.cohort_id
			  JOIN programs p ON p.tenant_id = c.tenant_id AND p.id = c.program_id
			  JOIN modules m ON m.tenant_id = c.tenant_id AND m.program_id = p.id
			  JOIN assessments a ON a.tenant_id = m.tenant_id AND a.module_id = m.id
			  LEFT JOIN extensions x ON x.tenant_id = a.tenant_id
			   AND x.assessment_id = a.id AND x.enrollment_id = e.id
			 WHERE e.tenant_id = current_tenant() AND e.state = 'active'
			   AND e.source <> 'demo' AND p.status = 'published'
			   AND coalesce(x.due_at, c.starts_at + a.due_days *
			       interval '1 day') > now()
			   AND coalesce(x.due_at, c.starts_at + a.due_days *
			       interval '1 day') <= now() + interval '24 hours'
			   AND NOT EXISTS (SELECT 1 FROM submissions s
			        WHERE s.tenant_id = a.tenant_id AND s.assessment_id = a.id
			          AND s.enrollment_id = e.id
			          AND (s.passed OR s.status NOT IN ('graded', 'failed')))
			   -- and the learner can still act on it: attempts left,
			   -- its module unlocked (as today's plan has it)
			   AND (a.max_attempts IS NULL OR (SELECT count(*) FROM submissions s
			        WHERE s.tenant_id = a.tenant_id AND s.assessment_id = a.id
			          AND s.enrollment_id = e.id) <
			        a.max_attempts + coalesce(x.extra_attempts, 0))
			   AND NOT EXISTS (SELECT 1 FROM module_blocker(e.id, m.id))
			   AND NOT EXISTS (SELECT 1 FROM nudges nd
			        WHERE nd.tenant_id = current_tenant()
			          AND nd.user_id = e.user_id AND nd.kind = 'due_soon'
			          AND nd.key = a.id::text)
		)
		SELECT u.id AS uid, u.email, u.name, due.aid, due.title, due.cohort,
		       due.due, ls.timezone AS tz
		  FROM due
		  JOIN users u ON u.tenant_id = current_tenant() AND u.id = due.user_id
		 CROSS JOIN LATERAL learner_settings(u.id) ls
		 WHERE u.active AND u.role = 'learner'
	LOOP
		IF nudge_send(r.uid, 'due_soon', r.aid::text, NULL, NULL, r.email,
		    format('Due in 24 hours: %s', r.title),
		    format(E'Hello %s,\n\n%s (%s) is due on %s (%s) and you have ' ||
		        E'not completed it yet.\n', r.name, r.title, r.cohort,
		        to_char(r.due AT TIME ZONE r.tz, 'FMMonth FMDD, HH24:MI'),
		        r.tz),
		    format(E'<p>Hello %s,</p>\n<p><strong>%s</strong> (%s) is due ' ||
		        E'on %s (%s) and you have not completed it yet.</p>\n',
		        html_escape(r.name), html_escape(r.title),
		        html_escape(r.cohort), to_char(r.due AT TIME ZONE r.tz,
		        'FMMonth FMDD, HH24:MI'), html_escape(r.tz)),
		    jsonb_build_object('assessment_id', r.aid, 'due_at',
		        rfc3339(r.due))) THEN
			n := n + 1;
		END IF;
	END LOOP;

	-- The daily reminder: a learner with a reminder_time, on a study
	-- day in their timezone, once that time has passed, when today's
	-- plan is not done (less than their daily minutes finished today,
	-- and something left to do).  Once a local date.
	FOR r IN
		WITH who AS MATERIALIZED (
			SELECT u.id AS uid, u.email, u.name, lp.reminder_time
			  FROM learner_preferences lp
			  JOIN users u ON u.tenant_id = lp.tenant_id AND u.id = lp.user_id
			 LEFT JOIN nudge_defaults d ON d.tenant_id = lp.tenant_id
			 WHERE lp.tenant_id = current_tenant()
			   AND lp.reminder_time IS NOT NULL AND u.active
			   AND u.role = 'learner'
			   AND coalesce(lp.nudge_daily, d.daily_reminder, true)
			   AND EXISTS (SELECT 1 FROM enrollments e
			        WHERE e.tenant_id = current_tenant()
			          AND e.user_id = u.id AND e.state = 'active'
			          AND e.source <> 'demo')
		), local AS MATERIALIZED (
			SELECT who.*, ls.daily_minutes AS mins, ls.timezone AS tz,
			       ls.study_days, now() AT TIME ZONE ls.timezone AS at
			  FROM who CROSS JOIN LATERAL learner_settings(who.uid) ls
		)
		SELECT uid, email, name, mins, tz, at::date AS day FROM local
		 WHERE at::time >= reminder_time
		   AND extract(isodow FROM at)::integer = ANY (study_days)
		   AND NOT EXISTS (SELECT 1 FROM nudges nd
		        WHERE nd.tenant_id = current_tenant() AND nd.user_id = uid
		          AND nd.kind = 'daily_reminder' AND nd.key = at::date::text)
	LOOP
		CONTINUE WHEN learner_minutes_on(r.uid, r.tz, r.day) >= r.mins;
		first := NULL;
		SELECT tc.title INTO first FROM today_candidates(r.uid,
		    (r.day + 1)::timestamp AT TIME ZONE r.tz) tc LIMIT 1;
		CONTINUE WHEN first IS NULL;
		IF nudge_send(r.uid, 'daily_reminder', r.day::text, NULL, NULL,
		    r.email, format('Your %s minutes today', r.mins),
		    format(E'Hello %s,\n\ntoday''s plan is not done yet: %s ' ||
		        E'minutes, starting with %s.\n', r.name, r.mins, first),
		    format(E'<p>Hello %s,</p>\n<p>today''s plan is not done yet: ' ||
		        E'%s minutes, starting with <strong>%s</strong>.</p>\n',
		        html_escape(r.name), r.mins, html_escape(first)),
		    jsonb_build_object('date', r.day)) THEN
			n := n + 1;
		END IF;
	END LOOP;

	-- Re-engagement: a learner with an active enrollment in a cohort
	-- not yet over, after 3, 7 and 14 of their study days passed whole
	-- with no activity since the last.  Each threshold once per run of
	-- inactivity (the last activity names the run), and only the
	-- highest reached: one who comes back to the scan 15 days idle gets
	-- the 14-day nudge alone.
	FOR r IN
		-- Who may be idle, cheaply: no enrollment enrolled or active
		-- (enrollments.last_activity_at, set by every completion and
		-- submission) in the last 3 days.  Review answers do not set
		-- it; learner_last_activity() then finds them.  Left out too:
		-- who got the last nudge of a run (14 days) and has done
		-- nothing since, so that learners gone for good cost one
		-- index probe a scan (10,000 learners, half of them gone: a
		-- scan with nothing due took 1.0 to 1.5 s without this).
		WITH idle AS MATERIALIZED (
			SELECT e.user_id, max(greatest(e.enrolled_at,
			       e.last_activity_at)) AS seen
			  FROM enrollments e
			 WHERE e.tenant_id = current_tenant()
			 GROUP BY e.user_id
			HAVING max(greatest(e.enrolled_at, e.last_activity_at))
			       < now() - interval '3 days'
			   AND bool_or(e.state = 'active' AND e.source <> 'demo')
		), open AS MATERIALIZED (
			SELECT idle.user_id FROM idle
			 WHERE NOT EXISTS (SELECT 1 FROM nudges nd
			        WHERE nd.tenant_id = current_tenant()
			          AND nd.user_id = idle.user_id
			          AND nd.kind = 're_engagement' AND nd.days = 14
			          AND nd.created_at > idle.seen
			          AND NOT EXISTS (SELECT 1 FROM review_answers ra
			               WHERE ra.tenant_id = current_tenant()
			                 AND ra.user_id = idle.user_id
			                 AND ra.answered_at > nd.created_at))
		), cand AS MATERIALIZED (
			SELECT u.id AS uid, u.email, u.name, la.at AS since,
			       ls.timezone AS tz, ls.study_days
			  FROM open
			  JOIN users u ON u.tenant_id = current_tenant()
			   AND u.id = open.user_id
			 CROSS JOIN LATERAL learner_nudges(u.id) ln
			 CROSS JOIN LATERAL learner_settings(u.id) ls
			 CROSS JOIN LATERAL (SELECT learner_last_activity(u.id) AS at) la
			 WHERE u.active AND u.role = 'learner' AND ln.re_engagement
			   AND la.at < now() - interval '3 days'
			   AND EXISTS (SELECT 1 FROM enrollments e
			        JOIN cohorts c ON c.tenant_id = e.tenant_id
			         AND c.id = e.cohort_id
			       WHERE e.tenant_id = current_tenant() AND e.user_id = u.id
			         AND e.state = 'active' AND e.source <> 'demo'
			         AND c.ends_at > now())
		), x AS (
			SELECT cand.*, (SELECT count(*) FROM generate_series(
			           greatest((since AT TIME ZONE tz)::date + 1,
			               (now() AT TIME ZONE tz)::date - 60),
			           (now() AT TIME ZONE tz)::date - 1,
			           interval '1 day') g
			         WHERE extract(isodow FROM g)::integer = ANY (study_days)
			       )::integer AS idle
			  FROM cand
		)
		SELECT x.uid, x.email, x.name, x.since, t.k FROM x
		 CROSS JOIN LATERAL (SELECT CASE WHEN x.idle >= 14 THEN 14
		       WHEN x.idle >= 7 THEN 7 WHEN x.idle >= 3 THEN 3 END AS k) t
		 WHERE t.k IS NOT NULL AND NOT EXISTS (SELECT 1 FROM nudges nd
		        WHERE nd.tenant_id = current_tenant() AND nd.user_id = x.uid
		          AND nd.kind = 're_engagement' AND nd.since = x.since
		          AND nd.days >= t.k)
	LOOP
		IF nudge_send(r.uid, 're_engagement', format('%s/%s',
		    rfc3339(r.since), r.k), r.since, r.k, r.email,
		    format('%s days without practice', r.k),
		    format(E'Hello %s,\n\nit has been %s study days since you last ' ||
		        E'practised. A few minutes today keep you on pace: your ' ||
		        E'plan for today is ready.\n', r.name, r.k),
		    format(E'<p>Hello %s,</p>\n<p>it has been %s study days since ' ||
		        E'you last practised. A few minutes today keep you on ' ||
		        E'pace: your plan for today is ready.</p>\n',
		        html_escape(r.name), r.k),
		    jsonb_build_object('days', r.k, 'last_activity_at',
		        rfc3339(r.since))) THEN
			n := n + 1;
		END IF;
	END LOOP;
	RETURN n;
END
$$;

-- The tenants, for the dispatcher to scan one by one: the one read in
-- the platform scope (whole, before the scope changes back: the policy is
-- checked as rows are fetched).
CREATE FUNCTION nudge_tenants() RETURNS SETOF uuid
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, public
AS $$
DECLARE
	was_scope	text := coalesce(current_setting('cohortd.scope', true), '');
	ids		uuid[];
BEGIN
	PERFORM set_config('cohortd.scope', 'platform', true);
	SELECT array_agg(id ORDER BY id) INTO ids FROM tenants;
	PERFORM set_config('cohortd.scope', was_scope, true);
	RETURN QUERY SELECT unnest(coalesce(ids, '{}'));
END
$$;

-- One tenant's scan, in the caller's transaction, which the dispatcher
-- keeps to this tenant: one tenant's failure (a lock it could not get
-- within lock_timeout, a timezone tzdata no longer knows) rolls back
-- that tenant's nudges only, and no transaction spans every tenant.  A
-- tenant another process is scanning right now is skipped (0): that scan
-- makes its nudges, and the unique keys would keep a second from making
-- any.
CREATE FUNCTION nudge_scan_in(p_tenant uuid) RETURNS integer
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, public
	SET lock_timeout = '5s'
AS $$
DECLARE
	was_tenant	text := coalesce(current_setting('cohortd.tenant_id', true), '');
	n		integer;
BEGIN
	IF NOT pg_try_advisory_xact_lock(hashtextextended(
	    'cohortd.nudge_scan:' || p_tenant::text, 0)) THEN
		RETURN 0;
	END IF;
	PERFORM set_config('cohortd.tenant_id', p_tenant::text, true);
	n := nudge_scan_tenant();
	PERFORM set_config('cohortd.tenant_id', was_tenant, true);
	RETURN n;
END
$$;

-- Every tenant's scan in one transaction, for an operator at psql (the
-- dispatcher goes tenant by tenant, each in a transaction of its own).
CREATE FUNCTION nudge_scan() RETURNS integer
	LANGUAGE sql VOLATILE
	SET search_path = pg_catalog, public
AS $$
	SELECT coalesce(sum(nudge_scan_in(t)), 0)::integer FROM nudge_tenants() t
$$;
