-- Members, roles, the audit log and the per-member conversation state.
-- Times are whole seconds since the Unix epoch, UTC.

CREATE TABLE members (
    user_id        INTEGER PRIMARY KEY,          -- numeric Telegram user id, never a username
    chat_id        INTEGER NOT NULL,             -- private chat id (equal to user_id today)
    language       TEXT    NOT NULL CHECK (language IN ('ko', 'en')),
    consented_at   INTEGER,                      -- NULL until the member accepts the notice
    subscribed     INTEGER NOT NULL DEFAULT 0 CHECK (subscribed IN (0, 1)),
    delivery_mode  TEXT    NOT NULL DEFAULT 'instant'
                   CHECK (delivery_mode IN ('instant', 'daily', 'weekly', 'paused')),
    digest_hour    INTEGER NOT NULL DEFAULT 8 CHECK (digest_hour BETWEEN 0 AND 23),
    digest_weekday INTEGER NOT NULL DEFAULT 0 CHECK (digest_weekday BETWEEN 0 AND 6), -- Monday 0
    timezone       TEXT    NOT NULL DEFAULT 'Asia/Seoul',
    active         INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),   -- 0: blocked the bot
    blocked        INTEGER NOT NULL DEFAULT 0 CHECK (blocked IN (0, 1)),  -- 1: blocked by an admin
    created_at     INTEGER NOT NULL,
    last_seen_at   INTEGER NOT NULL
);

CREATE INDEX members_by_chat ON members (chat_id);
CREATE INDEX members_subscribed ON members (subscribed, active, delivery_mode, language);

CREATE TABLE roles (
    user_id    INTEGER NOT NULL,
    role       TEXT    NOT NULL CHECK (role IN ('coordinator', 'courier')),
    granted_by INTEGER NOT NULL,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, role)
);

CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    actor_id  INTEGER NOT NULL,
    action    TEXT    NOT NULL,
    target_id INTEGER,
    detail    TEXT    NOT NULL DEFAULT ''
);

CREATE INDEX audit_log_by_time ON audit_log (at);

-- Where a member is in a multi-step flow (writing a letter, typing a time zone, ...).
-- Kept in the database so a restart does not lose a half-written draft.
CREATE TABLE conversations (
    user_id    INTEGER PRIMARY KEY REFERENCES members (user_id) ON DELETE CASCADE,
    flow       TEXT    NOT NULL,
    step       TEXT    NOT NULL,
    data       TEXT    NOT NULL DEFAULT '{}',
    updated_at INTEGER NOT NULL
);
