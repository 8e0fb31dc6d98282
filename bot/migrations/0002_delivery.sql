-- Campaign updates, broadcasts and the durable outbox every bot-initiated message leaves through.

CREATE TABLE updates (
    id            INTEGER PRIMARY KEY,
    text_ko       TEXT,                          -- NULL when the coordinator skipped Korean
    text_en       TEXT,                          -- NULL when the coordinator skipped English
    photo_file_id TEXT,
    author_id     INTEGER NOT NULL,
    published_at  INTEGER NOT NULL,
    CHECK (text_ko IS NOT NULL OR text_en IS NOT NULL)
);

CREATE INDEX updates_by_time ON updates (published_at);

-- One row per fan-out (an update's instant delivery or an announcement).
CREATE TABLE broadcasts (
    id                  INTEGER PRIMARY KEY,
    kind                TEXT    NOT NULL CHECK (kind IN ('update', 'announcement')),
    update_id           INTEGER REFERENCES updates (id) ON DELETE SET NULL,
    author_id           INTEGER NOT NULL,
    audience            TEXT    NOT NULL DEFAULT 'all' CHECK (audience IN ('all', 'ko', 'en')),
    state               TEXT    NOT NULL DEFAULT 'sending'
                        CHECK (state IN ('sending', 'done', 'cancelled')),
    recipients          INTEGER NOT NULL DEFAULT 0,
    created_at          INTEGER NOT NULL,
    finished_at         INTEGER,
    progress_chat_id    INTEGER,                 -- the coordinator's progress message
    progress_message_id INTEGER
);

-- The text of a message, shared by every outbox row that sends it (a broadcast stores its
-- text once per language, not once per recipient).
CREATE TABLE outbox_payloads (
    id            INTEGER PRIMARY KEY,
    text          TEXT NOT NULL,                 -- Telegram HTML, already escaped
    photo_file_id TEXT,                          -- sent as a photo with `text` as its caption
    reply_markup  TEXT                           -- JSON of an inline keyboard, or NULL
);

CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES members (user_id) ON DELETE CASCADE,
    chat_id      INTEGER NOT NULL,
    payload_id   INTEGER REFERENCES outbox_payloads (id) ON DELETE SET NULL, -- NULL once sent
    broadcast_id INTEGER REFERENCES broadcasts (id) ON DELETE SET NULL,
    kind         TEXT    NOT NULL,               -- update, announcement, digest, notice
    state        TEXT    NOT NULL DEFAULT 'pending'
                 CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'blocked', 'cancelled')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    not_before   REAL    NOT NULL DEFAULT 0,     -- epoch seconds: backoff and per-chat spacing
    created_at   INTEGER NOT NULL,
    finished_at  INTEGER,
    error        TEXT                            -- why it failed (an error class, never text)
);

-- The sender's queue: only unfinished rows are in this index, so it stays small.
CREATE INDEX outbox_queue ON outbox (not_before, id) WHERE state = 'pending';
CREATE INDEX outbox_in_flight ON outbox (state) WHERE state = 'sending';
CREATE INDEX outbox_by_broadcast ON outbox (broadcast_id, state);
CREATE INDEX outbox_by_payload ON outbox (payload_id);
CREATE INDEX outbox_by_user ON outbox (user_id);
