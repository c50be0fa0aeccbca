-- 0002_identity.sql - tenants, users, credentials, audit, idempotency,
-- login throttling.
--
-- Every tenant-owned table leads its primary key and indexes with
-- tenant_id (so it can be distributed by tenant) and has row-level
-- security ENABLEd and FORCEd, checking the transaction's tenant setting.
-- Settings read by the policies (all transaction-local, set by cohortd):
--   cohortd.tenant_id   the tenant of the request
--   cohortd.scope       'platform' for the platform administrator
--   cohortd.token_hash  the hash of the bearer token being resolved
--   cohortd.login_slug  the tenant slug of a login attempt

CREATE FUNCTION platform_scope() RETURNS boolean
	LANGUAGE sql STABLE
	AS $$ SELECT coalesce(current_setting('cohortd.scope', true), '') = 'platform' $$;

CREATE TABLE tenants (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	slug		text NOT NULL UNIQUE
			CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 63),
	name		text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
	created_at	timestamptz NOT NULL DEFAULT clock_timestamp(),
	updated_at	timestamptz NOT NULL DEFAULT clock_timestamp(),
	version		integer NOT NULL DEFAULT 1
);
CREATE INDEX tenants_list ON tenants (created_at, id);
ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
-- A tenant sees itself; the platform sees all; a login sees the slug it names.
CREATE POLICY tenants_read ON tenants FOR SELECT
	USING (id = current_tenant() OR platform_scope()
	       OR slug = current_setting('cohortd.login_slug', true));
CREATE POLICY tenants_write ON tenants FOR ALL
	USING (platform_scope()) WITH CHECK (platform_scope());

CREATE TABLE users (
	tenant_id	uuid NOT NULL REFERENCES tenants (id),
	id		uuid NOT NULL DEFAULT gen_random_uuid(),
	email		text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
	name		text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
	role		text NOT NULL CHECK (role IN ('admin', 'instructor', 'learner')),
	password_hash	text,
	active		boolean NOT NULL DEFAULT true,
	created_at	timestamptz NOT NULL DEFAULT clock_timestamp(),
	updated_at	timestamptz NOT NULL DEFAULT clock_timestamp(),
	version		integer NOT NULL DEFAULT 1,
	PRIMARY KEY (tenant_id, id)
);
-- Emails are unique per tenant, whatever their case.
CREATE UNIQUE INDEX users_email ON users (tenant_id, lower(email));
CREATE INDEX users_list ON users (tenant_id, created_at, id);
CREATE INDEX users_email_prefix ON users (tenant_id, lower(email) text_pattern_ops);
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY users_tenant ON users
	USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

-- Sessions (from login) and API keys.  Only BLAKE2b-256 hashes.
CREATE TABLE credentials (
	tenant_id	uuid NOT NULL REFERENCES tenants (id),
	id		uuid NOT NULL DEFAULT gen_random_uuid(),
	kind		text NOT NULL CHECK (kind IN ('session', 'api_key')),
	user_id		uuid,
	role		text NOT NULL CHECK (role IN ('admin', 'instructor', 'learner')),
	name		text,
	token_hash	bytea NOT NULL CHECK (length(token_hash) = 32),
	created_by	uuid,
	created_at	timestamptz NOT NULL DEFAULT clock_timestamp(),
	expires_at	timestamptz,
	revoked_at	timestamptz,
	last_used_at	timestamptz,
	PRIMARY KEY (tenant_id, id),
	UNIQUE (tenant_id, token_hash),
	FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
);
-- Resolving a bearer token is the one lookup that starts without a tenant.
CREATE INDEX credentials_hash ON credentials (token_hash);
CREATE INDEX credentials_list ON credentials (tenant_id, kind, created_at, id);
ALTER TABLE credentials ENABLE ROW LEVEL SECURITY;
ALTER TABLE credentials FORCE ROW LEVEL SECURITY;
-- Outside its tenant, a credential is visible only to whoever presents it.
CREATE POLICY credentials_tenant ON credentials
	USING (tenant_id = current_tenant()
	       OR token_hash = decode(nullif(current_setting('cohortd.token_hash', true), ''), 'hex'))
	WITH CHECK (tenant_id = current_tenant());

CREATE TABLE audit_events (
	tenant_id	uuid NOT NULL REFERENCES tenants (id),
	id		uuid NOT NULL DEFAULT gen_random_uuid(),
	at		timestamptz NOT NULL DEFAULT clock_timestamp(),
	actor_type	text NOT NULL,
	actor_id	uuid,
	action		text NOT NULL,
	object_type	text,
	object_id	text,
	request_id	text,
	PRIMARY KEY (tenant_id, id)
);
CREATE INDEX audit_list ON audit_events (tenant_id, at, id);
CREATE INDEX audit_object ON audit_events (tenant_id, object_type, object_id, at, id);
ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_events FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_tenant ON audit_events
	USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

-- Idempotency-Key records.  The platform's own keys use the nil tenant.
CREATE TABLE idempotency_keys (
	tenant_id	uuid NOT NULL,
	key		text NOT NULL,
	request_hash	bytea NOT NULL,
	state		text NOT NULL DEFAULT 'in_progress'
			CHECK (state IN ('in_progress', 'done')),
	status		integer,
	location	text,
	body		text,
	created_at	timestamptz NOT NULL DEFAULT clock_timestamp(),
	PRIMARY KEY (tenant_id, key)
);
CREATE INDEX idempotency_expiry ON idempotency_keys (created_at);
ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE idempotency_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY idempotency_tenant ON idempotency_keys
	USING (tenant_id = current_tenant() OR (platform_scope()
	       AND tenant_id = '00000000-0000-0000-0000-000000000000'::uuid))
	WITH CHECK (tenant_id = current_tenant() OR (platform_scope()
	       AND tenant_id = '00000000-0000-0000-0000-000000000000'::uuid));

-- Failed logins per account and per client address.  Keys are BLAKE2b
-- hashes, so the table holds no addresses or emails; not tenant-owned.
CREATE TABLE login_throttle (
	key_hash	bytea PRIMARY KEY,
	failures	integer NOT NULL,
	window_start	timestamptz NOT NULL
);

-- Resolve a bearer token into the caller, and scope the transaction to
-- it: one round trip per authenticated request.  Runs as the caller
-- (cohortd_app), so row-level security applies throughout.
CREATE FUNCTION auth_resolve(p_hash bytea)
	RETURNS TABLE (scope text, tenant_id uuid, user_id uuid, role text,
	               credential_id uuid, token_hash bytea)
	LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	c	credentials%ROWTYPE;
	pid	uuid;
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
	PERFORM set_config('cohortd.token_hash', '', true);
	IF NOT FOUND THEN
		RETURN;
	END IF;
	PERFORM set_config('cohortd.tenant_id', c.tenant_id::text, true);
	IF c.user_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM users u
	    WHERE u.tenant_id = c.tenant_id AND u.id = c.user_id AND u.active) THEN
		PERFORM set_config('cohortd.tenant_id', '', true);
		RETURN;
	END IF;
	-- Keys record their use, at most once a minute: a write per request
	-- would turn every read into one.
	IF c.kind = 'api_key' AND (c.last_used_at IS NULL
	    OR c.last_used_at < now() - interval '1 minute') THEN
		UPDATE credentials SET last_used_at = now()
		 WHERE credentials.tenant_id = c.tenant_id AND credentials.id = c.id;
	END IF;
	RETURN QUERY SELECT 'tenant'::text, c.tenant_id, c.user_id, c.role, c.id,
	    c.token_hash;
END
$$;

-- Find a login's tenant and user, scoping the transaction to the tenant.
CREATE FUNCTION login_lookup(p_slug text, p_email text)
	RETURNS TABLE (tenant_id uuid, user_id uuid, role text, password_hash text)
	LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	tid	uuid;
BEGIN
	PERFORM set_config('cohortd.login_slug', p_slug, true);
	SELECT t.id INTO tid FROM tenants t WHERE t.slug = p_slug;
	PERFORM set_config('cohortd.login_slug', '', true);
	IF NOT FOUND THEN
		RETURN;
	END IF;
	PERFORM set_config('cohortd.tenant_id', tid::text, true);
	RETURN QUERY SELECT u.tenant_id, u.id, u.role, u.password_hash FROM users u
	 WHERE u.tenant_id = tid AND lower(u.email) = lower(p_email) AND u.active;
END
$$;

-- Timestamps leave the database as RFC 3339 UTC with microseconds.
CREATE FUNCTION rfc3339(timestamptz) RETURNS text
	LANGUAGE sql IMMUTABLE
	AS $$ SELECT to_char($1 AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') $$;
