-- 0020_schema_notify.sql - a change to schema_migrations is said at once.
--
-- /readyz reuses a check's answer for a few milliseconds (daemon/health.c)
-- while its connection hears nothing: the server going away closes it,
-- and a migration applied or undone (by a newer binary, or by hand)
-- notifies it here, so neither waits out the reuse.

CREATE FUNCTION schema_migrations_changed() RETURNS trigger
	LANGUAGE plpgsql
AS $$
BEGIN
	PERFORM pg_notify('cohortd_schema', '');
	RETURN NULL;
END
$$;

CREATE TRIGGER schema_migrations_changed
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON schema_migrations
	FOR EACH STATEMENT EXECUTE FUNCTION schema_migrations_changed();
