-- 0011_key_owner.sql - API keys follow their creator's rights.

-- admin > instructor > learner.
CREATE FUNCTION role_rank(p_role text) RETURNS integer
	LANGUAGE sql IMMUTABLE
	AS $$ SELECT CASE p_role WHEN 'admin' THEN 3 WHEN 'instructor' THEN 2
	      WHEN 'learner' THEN 1 ELSE 0 END $$;

-- As 0006, plus: an API key made by a user (created_by) acts with the
-- lesser of its own role and its creator's role as it is now, and not at
-- all once its creator is deleted or deactivated.  Checked here, on every
-- request, so every way a user loses rights (DELETE, PATCH of role or
-- active, cohortctl, SQL) reaches their keys at once.
CREATE OR REPLACE FUNCTION auth_resolve(p_hash bytea)
	RETURNS TABLE (scope text, tenant_id uuid, user_id uuid, role text,
	               credential_id uuid, token_hash bytea)
	LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	c	credentials%ROWTYPE;
	pid	uuid;
	urole	text;
	crole	text;
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
	-- A key acts with no more than its creator may now: none once the
	-- creator is gone (deleted or deactivated), the creator's role once
	-- demoted below the key's.  Keys made by cohortctl have no creator.
	IF c.kind = 'api_key' AND c.created_by IS NOT NULL THEN
		SELECT u.role INTO crole FROM users u
		 WHERE u.tenant_id = c.tenant_id AND u.id = c.created_by AND u.active;
		IF NOT FOUND THEN
			PERFORM set_config('cohortd.tenant_id', '', true);
			RETURN;
		END IF;
		IF role_rank(crole) < role_rank(urole) THEN
			urole := crole;
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
