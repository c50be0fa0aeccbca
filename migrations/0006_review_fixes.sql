-- 0006_review_fixes.sql - corrections found in review.

-- A session acts with the user's role as it is now, not as it was at login
-- (a demoted admin must lose admin rights at once); and unknown tokens
-- return no row at all (FOUND is read before any PERFORM resets it).
CREATE OR REPLACE FUNCTION auth_resolve(p_hash bytea)
	RETURNS TABLE (scope text, tenant_id uuid, user_id uuid, role text,
	               credential_id uuid, token_hash bytea)
	LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	c	credentials%ROWTYPE;
	pid	uuid;
	urole	text;
	found_c	boolean;
BEGIN
	SELECT p.id INTO pid FROM platform_tokens p
	 WHERE p.token_hash = p_hash AND p.revoked_at IS NULL;
	IF FOUND THEN
		PERFORM set_config('cohortd.scope', 'platform', true);
		RETURN QUERY SELECT 'platform'::text, NULL::uuid, NULL::uuid,
		    'platform'::text, pid, p_hash;
		RETURN;
	END IF;
	PERFORM set_config('cohortd.token_hash', encode(p_hash, 'hex'), true);
	SELECT * INTO c FROM credentials cr
	 WHERE cr.token_hash = p_hash AND cr.revoked_at IS NULL
	   AND (cr.expires_at IS NULL OR cr.expires_at > now());
	found_c := FOUND;
	PERFORM set_config('cohortd.token_hash', '', true);
	IF NOT found_c THEN
		RETURN;
	END IF;
	PERFORM set_config('cohortd.tenant_id', c.tenant_id::text, true);
	urole := c.role;
	IF c.user_id IS NOT NULL THEN
		SELECT u.role INTO urole FROM users u
		 WHERE u.tenant_id = c.tenant_id AND u.id = c.user_id AND u.active;
		IF NOT FOUND THEN
			PERFORM set_config('cohortd.tenant_id', '', true);
			RETURN;
		END IF;
	END IF;
	IF c.kind = 'api_key' AND (c.last_used_at IS NULL
	    OR c.last_used_at < now() - interval '1 minute') THEN
		UPDATE credentials SET last_used_at = now()
		 WHERE credentials.tenant_id = c.tenant_id AND credentials.id = c.id;
	END IF;
	RETURN QUERY SELECT 'tenant'::text, c.tenant_id, c.user_id, urole, c.id,
	    c.token_hash;
END
$$;

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
	 WHERE u.tenant_id = tid AND lower(u.email) = lower(p_email) AND u.active;
END
$$;

-- A learner who completed the program keeps their seat: seats are held by
-- active and completed enrollments alike, so finishing early never lets a
-- newcomer pass the waitlist.
CREATE OR REPLACE FUNCTION cohort_promote(p_cohort uuid) RETURNS integer
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
			   AND state IN ('active', 'completed');
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

CREATE OR REPLACE FUNCTION enroll_rows(p_cohort uuid, p_rows jsonb, p_source text)
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
			IF c.capacity IS NULL OR n_held < c.capacity THEN
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
				n_held := n_held + 1;
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

-- ETags follow the version column, so whatever a rendering derives from
-- other rows must move it: a cohort shows its seat counts, a module the
-- minutes of its lessons and assessments.
CREATE FUNCTION bump_cohort_version() RETURNS trigger
	LANGUAGE plpgsql
AS $$
BEGIN
	UPDATE cohorts SET version = version + 1
	 WHERE tenant_id = coalesce(NEW.tenant_id, OLD.tenant_id)
	   AND id = coalesce(NEW.cohort_id, OLD.cohort_id);
	RETURN NULL;
END
$$;
CREATE TRIGGER enrollments_bump_cohort AFTER INSERT OR DELETE OR UPDATE OF state
	ON enrollments FOR EACH ROW EXECUTE FUNCTION bump_cohort_version();

CREATE FUNCTION bump_module_version() RETURNS trigger
	LANGUAGE plpgsql
AS $$
BEGIN
	UPDATE modules SET version = version + 1
	 WHERE tenant_id = coalesce(NEW.tenant_id, OLD.tenant_id)
	   AND id = coalesce(NEW.module_id, OLD.module_id);
	RETURN NULL;
END
$$;
CREATE TRIGGER lessons_bump_module AFTER INSERT OR DELETE
	OR UPDATE OF estimated_minutes ON lessons
	FOR EACH ROW EXECUTE FUNCTION bump_module_version();
CREATE TRIGGER assessments_bump_module AFTER INSERT OR DELETE
	OR UPDATE OF estimated_minutes ON assessments
	FOR EACH ROW EXECUTE FUNCTION bump_module_version();
