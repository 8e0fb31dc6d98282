-- A send Telegram did not answer in time may or may not have arrived: the sender records it as
-- 'unknown' and does not send it again (see "Delivery" in the README). SQLite cannot change a
-- CHECK constraint, so the table is rebuilt with the same columns and indexes.
CREATE TABLE outbox_new (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES members (user_id) ON DELETE CASCADE,
    chat_id      INTEGER NOT NULL,
    payload_id   INTEGER REFERENCES outbox_payloads (id) ON DELETE SET NULL, -- NULL once sent
    broadcast_id INTEGER REFERENCES broadcasts (id) ON DELETE SET NULL,
    kind         TEXT    NOT NULL,               -- update, announcement, digest, notice
    state        TEXT    NOT NULL DEFAULT 'pending'
                 CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'blocked', 'cancelled',
                                  'unknown')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    not_before   REAL    NOT NULL DEFAULT 0,     -- epoch seconds: backoff and per-chat spacing
    created_at   INTEGER NOT NULL,
    finished_at  INTEGER,
    error        TEXT                            -- why it failed (an error class, never text)
);
INSERT INTO outbox_new SELECT id, user_id, chat_id, payload_id, broadcast_id, kind, state,
    attempts, not_before, created_at, finished_at, error FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_queue ON outbox (not_before, id) WHERE state = 'pending';
CREATE INDEX outbox_in_flight ON outbox (state) WHERE state = 'sending';
CREATE INDEX outbox_by_broadcast ON outbox (broadcast_id, state);
CREATE INDEX outbox_by_payload ON outbox (payload_id);
