-- 0016_enroll_linear.sql - finding a user by email in time independent
-- of the tenant's size, and batch enrollment in time linear in its rows.
--
-- Row-level security applies its policy before any condition whose
-- functions are not leakproof, and lower() is not: "lower(email) = $1"
-- could not be an index condition, so every lookup by email (login,
-- invitations, each row of a batch enrollment) read all of the tenant's
-- users.  The lower-cased email is now a stored column, email_key, which
-- a plain comparison indexes.
--
-- A batch enrollment was quadratic for two more reasons.  Each
-- enrollment's trigger bumped its cohort's version, so a batch updated
-- the same cohort row once a row, each update walking the chain of
-- versions the ones before left.  And each row ran in a subtransaction of
-- its own (an EXCEPTION block) so that its failure could not undo the rows
-- before it; past 64 subtransactions the snapshot's cache overflows and
-- every visibility check of the rows written consults pg_subtrans.
-- Together: 1,000 rows took 1.3 s and 3,000 took 15.8 s, the cohort
-- locked throughout (docs/PERFORMANCE.md has the figures after).  A row's
-- failures are the ones checked for here (no such user, not a learner,
-- the cohort full; the API validated the rest), so no subtransaction is
-- needed; a learner created at the same moment by another request is
-- found, not duplicated (ON CONFLICT).  Results are as before, messages
-- included.

ALTER TABLE users ADD COLUMN email_key text
	GENERATED ALWAYS AS (lower(email)) STORED;
DROP INDEX users_email;
DROP INDEX users_email_prefix;
CREATE UNIQUE INDEX users_email ON users (tenant_id, email_key);
CREATE INDEX users_email_prefix ON users (tenant_id, email_key text_pattern_ops);

CREATE OR REPLACE FUNCTION login_lookup(p_slug text, p_email text)
	RETURNS TABLE (tenant_id uuid, user_id uuid, role text, password_hash text)
	LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	tid	uuid;
BEGIN
	PERFORM set_config('cohortd.login_slug', p_slug, true);
	SELECT t.id INTO tid FROM tenants t WHERE t.slug = p_slug;
	PERFORM set_config('cohortd.login_slug', '', true);
	IF tid IS NULL THEN
		RETURN;
	END IF;
	PERFORM set_config('cohortd.tenant_id', tid::text, true);
	RETURN QUERY SELECT u.tenant_id, u.id, u.role, u.password_hash FROM users u
	 WHERE u.tenant_id = tid AND u.email_key = lower(p_email) AND u.active;
END
$$;

-- A cohort's version (its ETag) moves once per transaction that changes
-- its enrollments, which is all a reader can tell apart.
CREATE OR REPLACE FUNCTION bump_cohort_version() RETURNS trigger
	LANGUAGE plpgsql
AS $$
DECLARE
	cid	uuid := coalesce(NEW.cohort_id, OLD.cohort_id);
	flag	text := 'cohortd.bumped_' || replace(cid::text, '-', '');
BEGIN
	IF current_setting(flag, true) = '1' THEN
		RETURN NULL;
	END IF;
	UPDATE cohorts SET version = version + 1
	 WHERE tenant_id = coalesce(NEW.tenant_id, OLD.tenant_id) AND id = cid;
	PERFORM set_config(flag, '1', true);
	RETURN NULL;
END
$$;
CREATE OR REPLACE FUNCTION enroll_rows(p_cohort uuid, p_rows jsonb,
    p_source text)
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
	msg	text;
	e	enrollments%ROWTYPE;
	found_e	boolean;
	n_held	integer;
	st	text;
BEGIN
	SELECT * INTO c FROM cohorts
	 WHERE tenant_id = current_tenant() AND id = p_cohort FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no such cohort' USING ERRCODE = 'P0002';
	END IF;
	SELECT count(*) INTO n_held FROM enrollments
	 WHERE tenant_id = current_tenant() AND cohort_id = p_cohort
	   AND state IN ('active', 'completed');
	FOR r IN SELECT * FROM jsonb_array_elements(p_rows) LOOP
		i := i + 1;
		uid := NULL;
		urole := NULL;
		msg := NULL;
		IF r ? 'user_id' THEN
			IF (r->>'user_id') ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
				SELECT u.id, u.role INTO uid, urole FROM users u
				 WHERE u.tenant_id = current_tenant()
				   AND u.id = (r->>'user_id')::uuid AND u.active;
			END IF;
			IF uid IS NULL THEN
				msg := 'no such user';
			END IF;
		ELSE
			SELECT u.id, u.role INTO uid, urole FROM users u
			 WHERE u.tenant_id = current_tenant()
			   AND u.email_key = lower(r->>'email');
			IF uid IS NULL AND (length(r->>'email') NOT BETWEEN 3 AND 254
			    OR coalesce(length(r->>'name'), 0) NOT BETWEEN 1 AND 200) THEN
				msg := 'the email must have 3 to 254 characters and the name 1 to 200';
			ELSIF uid IS NULL THEN
				INSERT INTO users (tenant_id, email, name, role)
				VALUES (current_tenant(), r->>'email', r->>'name', 'learner')
				ON CONFLICT (tenant_id, email_key) DO NOTHING
				RETURNING id, role INTO uid, urole;
				IF uid IS NULL THEN	-- another request made them
					SELECT u.id, u.role INTO uid, urole FROM users u
					 WHERE u.tenant_id = current_tenant()
					   AND u.email_key = lower(r->>'email');
				END IF;
			END IF;
		END IF;
		IF msg IS NULL AND urole <> 'learner' THEN
			msg := 'the user is not a learner';
		END IF;
		IF msg IS NULL THEN
			SELECT * INTO e FROM enrollments en
			 WHERE en.tenant_id = current_tenant()
			   AND en.cohort_id = p_cohort AND en.user_id = uid;
			found_e := FOUND;
			IF found_e AND e.state <> 'withdrawn' THEN
				row_no := i; outcome := 'existing'; enrollment_id := e.id;
				user_id := uid; message := NULL;
				RETURN NEXT;
				CONTINUE;
			END IF;
			IF c.capacity IS NULL OR n_held < c.capacity THEN
				st := 'active';
			ELSIF c.waitlist THEN
				st := 'waitlisted';
			ELSE
				msg := 'the cohort is full';
			END IF;
		END IF;
		IF msg IS NOT NULL THEN
			row_no := i; outcome := 'error'; enrollment_id := NULL;
			user_id := uid; message := msg;
			RETURN NEXT;
			CONTINUE;
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
			n_held := n_held + 1;
		END IF;
		row_no := i; user_id := uid; message := NULL;
		outcome := CASE WHEN st = 'active' THEN 'created' ELSE 'waitlisted' END;
		RETURN NEXT;
	END LOOP;
END
$$;
