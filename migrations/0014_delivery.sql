-- 0014_delivery.sql - what the outbox's dispatcher (daemon/outbox.c)
-- needs to send: the sender's name kept on the row, a wake-up at commit,
-- and the enrollments that became active in a transaction (for the
-- "enrolled" and "promoted" emails, daemon/mail.c).

-- The tenant's name as the From display name.  Taken when the message is
-- written (in the tenant's scope), since the dispatcher works in the
-- worker scope, which tenants' policy does not open.
ALTER TABLE outbox ADD COLUMN sender_name text;

CREATE FUNCTION outbox_sender() RETURNS trigger
	LANGUAGE plpgsql
AS $$
BEGIN
	IF NEW.sender_name IS NULL THEN
		SELECT t.name INTO NEW.sender_name FROM tenants t
		 WHERE t.id = NEW.tenant_id;
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER outbox_sender BEFORE INSERT ON outbox
	FOR EACH ROW EXECUTE FUNCTION outbox_sender();

-- Wake idle dispatchers when a message is queued (delivered at commit).
CREATE FUNCTION outbox_notify() RETURNS trigger
	LANGUAGE plpgsql
AS $$
BEGIN
	PERFORM pg_notify('cohortd_outbox', '');
	RETURN NULL;
END
$$;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
	FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

-- Enrollments made active in this transaction, by insert (enrolled) or
-- from the waitlist (promoted), whichever path did it (enroll_rows,
-- cohort_promote, enrollment_withdraw): kept in two transaction-local
-- settings as comma-separated ids, which outbox_news() reads and clears.
CREATE FUNCTION enrollment_news() RETURNS trigger
	LANGUAGE plpgsql
AS $$
DECLARE
	k	text;
BEGIN
	IF NEW.state <> 'active' OR NEW.source = 'demo' THEN
		RETURN NULL;
	END IF;
	IF TG_OP = 'INSERT' THEN
		k := 'cohortd.news_enrolled';
	ELSIF OLD.state = 'waitlisted' THEN
		k := 'cohortd.news_promoted';
	ELSE
		RETURN NULL;
	END IF;
	PERFORM set_config(k, coalesce(nullif(current_setting(k, true), '')
	    || ',', '') || NEW.id::text, true);
	RETURN NULL;
END
$$;
CREATE TRIGGER enrollment_news AFTER INSERT OR UPDATE OF state ON enrollments
	FOR EACH ROW EXECUTE FUNCTION enrollment_news();

-- The set of ids a news setting holds, and clears it.
CREATE FUNCTION outbox_news(p_key text) RETURNS uuid[]
	LANGUAGE plpgsql
AS $$
DECLARE
	v	text := nullif(current_setting(p_key, true), '');
BEGIN
	PERFORM set_config(p_key, '', true);
	RETURN coalesce(string_to_array(v, ',')::uuid[], '{}');
END
$$;
