-- 0001_foundation.sql - the application role and platform-wide tables.
--
-- Requests run as cohortd_app: it owns nothing and cannot bypass row-level
-- security, so every tenant-owned table's policies apply to it.  The role
-- is cluster-wide; IF NOT EXISTS lets several databases share a cluster.
DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cohortd_app') THEN
		CREATE ROLE cohortd_app NOLOGIN NOSUPERUSER NOBYPASSRLS;
	END IF;
END
$$;
-- The login role switches to cohortd_app on every pooled connection.
GRANT cohortd_app TO CURRENT_USER;

GRANT USAGE ON SCHEMA public TO cohortd_app;
GRANT SELECT ON schema_migrations TO cohortd_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
	GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO cohortd_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
	GRANT USAGE, SELECT ON SEQUENCES TO cohortd_app;

-- The tenant of the current transaction, as row-level security sees it;
-- NULL outside a tenant's request (then no tenant row is visible).
CREATE FUNCTION current_tenant() RETURNS uuid
	LANGUAGE sql STABLE
	AS $$ SELECT nullif(current_setting('cohortd.tenant_id', true), '')::uuid $$;

-- Platform administrator tokens: not tenant-owned.  Only BLAKE2b hashes.
CREATE TABLE platform_tokens (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	token_hash	bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
	created_at	timestamptz NOT NULL DEFAULT now(),
	revoked_at	timestamptz
);
