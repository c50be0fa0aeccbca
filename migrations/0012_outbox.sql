-- 0012_outbox.sql - messages to people (email) and to systems (webhooks),
-- written in the transaction of what they tell and sent afterwards by
-- the dispatcher (daemon/outbox.c): nothing sent for a change rolled
-- back, nothing lost for a process killed after the commit.

CREATE TABLE outbox (
	tenant_id	uuid NOT NULL REFERENCES tenants (id),
	id		uuid NOT NULL DEFAULT gen_random_uuid(),
	channel		text NOT NULL CHECK (channel IN ('email', 'webhook')),
	event		text NOT NULL CHECK (length(event) BETWEEN 1 AND 64),
	-- email: the address; webhook: the endpoint's id
	recipient	text NOT NULL CHECK (length(recipient) BETWEEN 1 AND 320),
	subject		text,
	body_text	text,
	body_html	text,
	payload		jsonb,			-- webhook: the body sent
	-- A secret link ("{link}" in the bodies), kept apart: never listed,
	-- put in only when sending, dropped once sent.
	secret_link	text,
	state		text NOT NULL DEFAULT 'unsent'
			CHECK (state IN ('unsent', 'sent', 'failed')),
	attempts	integer NOT NULL DEFAULT 0,
	next_at		timestamptz NOT NULL DEFAULT clock_timestamp(),
	lease_token	uuid,
	lease_until	timestamptz,
	last_error	text,
	created_at	timestamptz NOT NULL DEFAULT clock_timestamp(),
	sent_at		timestamptz,
	PRIMARY KEY (tenant_id, id)
);
-- What is due, across tenants (the dispatcher's claim).
CREATE INDEX outbox_due ON outbox (next_at) WHERE state = 'unsent';
CREATE INDEX outbox_list ON outbox (tenant_id, created_at, id);
ALTER TABLE outbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE outbox FORCE ROW LEVEL SECURITY;
-- The dispatcher serves every tenant through its claim, as graders do.
CREATE POLICY outbox_tenant ON outbox
	USING (tenant_id = current_tenant() OR worker_scope())
	WITH CHECK (tenant_id = current_tenant() OR worker_scope());
