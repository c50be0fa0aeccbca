-- 0010_idempotency_etag.sql - an idempotent replay answers with the same
-- headers as the original response: keep its ETag beside its Location.
ALTER TABLE idempotency_keys ADD COLUMN etag text;
