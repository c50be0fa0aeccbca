-- 0021_auth_confirm.sql - confirm a principal remembered from an earlier
-- request, in the transaction that acts on it.
--
-- An API process remembers what a bearer token resolved to (daemon/auth.c)
-- so that a read need not wait for the lookup before it sends its own
-- statement: this check goes first in the same pipeline instead.  It
-- resolves the token as auth_resolve always does (scoping the transaction
-- the same way) and fails unless the answer is still exactly the one
-- remembered: a token revoked, expired or demoted a moment ago, from any
-- process, fails it, the pipeline's statements after it do not run, and
-- the request is looked up afresh.

CREATE FUNCTION auth_confirm(p_hash bytea, p_tenant uuid, p_user uuid,
	p_role text, p_credential uuid) RETURNS boolean
	LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	r	record;
BEGIN
	SELECT * INTO r FROM auth_resolve(p_hash);
	IF NOT FOUND OR r.tenant_id IS DISTINCT FROM p_tenant
	    OR r.user_id IS DISTINCT FROM p_user
	    OR r.role IS DISTINCT FROM p_role
	    OR r.credential_id IS DISTINCT FROM p_credential THEN
		RAISE EXCEPTION 'the token no longer grants what it did'
		    USING ERRCODE = 'invalid_authorization_specification';
	END IF;
	RETURN true;
END
$$;
