-- Scheduled digests (issue 4): when each digest member's next summary is due, and how far the
-- last one got.
--
-- next_digest_at: UTC epoch seconds of the member's next due digest; NULL when the member gets
-- no digests (not subscribed, instant or paused). Computed in Python (IANA zones, daylight
-- saving time) whenever a delivery setting changes, and advanced by the digest job in the same
-- transaction that queues the digest.
-- digest_last_update_id: the newest update a digest has covered (or the newest one that existed
-- when the member chose digests). An id rather than a time: an update published in the same
-- second as a digest is then never lost between two of them.
ALTER TABLE members ADD COLUMN next_digest_at INTEGER;
ALTER TABLE members ADD COLUMN digest_last_update_id INTEGER;

-- The digest job's selection of due members: only digest members are in this index.
CREATE INDEX members_digest_due ON members (next_digest_at) WHERE next_digest_at IS NOT NULL;
