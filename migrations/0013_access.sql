-- 0013_access.sql - getting in: one-time tokens that let a person set a
-- password, either an invitation (a user created without one) or a
-- password reset.  Only the token's BLAKE2b-256 hash is stored; using a
-- token marks it used, issuing a new one revokes the older ones.

CREATE TABLE access_tokens (
	tenant_id	uuid NOT NULL REFERENCES tenants (id),
	id		uuid NOT NULL DEFAULT gen_random_uuid(),
	kind		text NOT NULL CHECK (kind IN ('invitation', 'password_reset')),
	user_id		uuid NOT NULL,
	token_hash	bytea NOT NULL CHECK (length(token_hash) = 32),
	created_by	uuid,			-- the admin who invited; NULL: self
	created_at	timestamptz NOT NULL DEFAULT clock_timestamp(),
	expires_at	timestamptz NOT NULL,
	used_at		timestamptz,
	revoked_at	timestamptz,
	PRIMARY KEY (tenant_id, id),
	UNIQUE (tenant_id, token_hash),
	FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
);
-- Taking a token is the one lookup that starts without a tenant.
CREATE INDEX access_tokens_hash ON access_tokens (token_hash);
CREATE INDEX access_tokens_live ON access_tokens (tenant_id, user_id, kind)
	WHERE used_at IS NULL AND revoked_at IS NULL;
ALTER TABLE access_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE access_tokens FORCE ROW LEVEL SECURITY;
-- Outside its tenant, a token is visible only to whoever presents it.
CREATE POLICY access_tokens_tenant ON access_tokens
	USING (tenant_id = current_tenant()
	       OR token_hash = decode(nullif(current_setting('cohortd.access_hash', true), ''), 'hex'))
	WITH CHECK (tenant_id = current_tenant());

-- Find a presented token of kind p_kind, lock it and scope the
-- transaction to its tenant.  p_slug, when not NULL, is the tenant the
-- caller means: a token of another tenant is then not found.  No row: no
-- such token.  state: 'ok', 'used', 'revoked', 'expired' or 'inactive'
-- (the user was deactivated).  Runs as the caller (cohortd_app), so
-- row-level security applies throughout.
CREATE FUNCTION access_token_take(p_kind text, p_hash bytea, p_slug text)
	RETURNS TABLE (tenant_id uuid, token_id uuid, user_id uuid, role text,
	               state text)
	LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	t	access_tokens%ROWTYPE;
	u	users%ROWTYPE;
BEGIN
	-- (PERFORM sets FOUND: the row's id says whether there was one.)
	PERFORM set_config('cohortd.access_hash', encode(p_hash, 'hex'), true);
	SELECT * INTO t FROM access_tokens a
	 WHERE a.token_hash = p_hash AND a.kind = p_kind FOR UPDATE;
	PERFORM set_config('cohortd.access_hash', '', true);
	IF t.id IS NULL THEN
		RETURN;
	END IF;
	PERFORM set_config('cohortd.tenant_id', t.tenant_id::text, true);
	IF p_slug IS NOT NULL AND NOT EXISTS (SELECT 1 FROM tenants tn
	    WHERE tn.id = t.tenant_id AND tn.slug = p_slug) THEN
		PERFORM set_config('cohortd.tenant_id', '', true);
		RETURN;
	END IF;
	SELECT * INTO u FROM users us
	 WHERE us.tenant_id = t.tenant_id AND us.id = t.user_id FOR UPDATE;
	IF u.id IS NULL THEN
		RETURN;
	END IF;
	RETURN QUERY SELECT t.tenant_id, t.id, t.user_id, u.role,
	    CASE WHEN t.used_at IS NOT NULL THEN 'used'
	         WHEN t.revoked_at IS NOT NULL THEN 'revoked'
	         WHEN t.expires_at <= now() THEN 'expired'
	         WHEN NOT u.active THEN 'inactive'
	         WHEN t.expires_at > now() THEN 'ok'
	         ELSE 'expired' END;
END
$$;
