-- 0017_mint_at_send.sql - one-time links made when their email is sent.
--
-- An invitation's or a password reset's email kept its link, token and
-- all, in outbox.secret_link until it was sent, and forever where no mail
-- server is configured: readable by anything that reads the table
-- (backups, replicas, the workers' scope).  Now the message holds what
-- to make (outbox.mint: the kind, the user or the email, the page, the
-- lifetime) and the dispatcher makes the token when it sends, storing
-- only its hash (access_mint()).  A password reset also no longer finds
-- the account while the request waits: the same row is written whoever
-- asks, and the dispatcher finds no account and sends nothing, so the
-- request does the same work either way.

ALTER TABLE outbox ADD COLUMN mint jsonb;
-- Links already queued in clear are withdrawn, and the column goes.
UPDATE outbox SET secret_link = NULL, state = 'failed',
       last_error = 'withdrawn: links are now made when their email is sent'
 WHERE secret_link IS NOT NULL AND state = 'unsent';
ALTER TABLE outbox DROP COLUMN secret_link;

-- Make a token of p_kind (its hash p_hash, valid p_ttl_s seconds) for the
-- user p_user, or for the active account whose email is p_email, in the
-- transaction's tenant.  A password reset revokes the user's older ones;
-- an invitation is made only for an active user without a password.  No
-- row: no such account, nothing to send; else the tenant's slug for the
-- link, the token's end and the account's address (the email goes there,
-- whatever case it was asked for in).
CREATE FUNCTION access_mint(p_kind text, p_user uuid, p_email text,
    p_hash bytea, p_ttl_s integer)
	RETURNS TABLE (slug text, expires_at text, email text)
	LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	u	users%ROWTYPE;
	ends	timestamptz := clock_timestamp() + p_ttl_s * interval '1 second';
BEGIN
	IF p_user IS NOT NULL THEN
		SELECT * INTO u FROM users us
		 WHERE us.tenant_id = current_tenant() AND us.id = p_user;
	ELSE
		SELECT * INTO u FROM users us
		 WHERE us.tenant_id = current_tenant()
		   AND us.email_key = lower(p_email);
	END IF;
	IF u.id IS NULL OR NOT u.active OR (p_kind = 'invitation' AND
	    u.password_hash IS NOT NULL) THEN
		RETURN;
	END IF;
	IF p_kind = 'password_reset' THEN
		UPDATE access_tokens a SET revoked_at = now()
		 WHERE a.tenant_id = current_tenant() AND a.user_id = u.id
		   AND a.kind = p_kind AND a.used_at IS NULL
		   AND a.revoked_at IS NULL;
	END IF;
	INSERT INTO access_tokens (tenant_id, kind, user_id, token_hash,
	       expires_at)
	VALUES (current_tenant(), p_kind, u.id, p_hash, ends);
	RETURN QUERY SELECT t.slug, rfc3339(ends), u.email FROM tenants t
	 WHERE t.id = current_tenant();
END
$$;
