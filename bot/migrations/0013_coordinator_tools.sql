-- Coordinators' tools: admins alerted of privileged actions as they happen, scheduled
-- announcements, the letter writers' audience, and the soldiers' answers.

-- The "letter writers" audience (members with a letter handed over). The audience columns'
-- CHECK cannot change without rebuilding tables other tables point at, so it is a flag beside
-- the language audience 'all'.
-- writers_bundle narrows it to the writers of one handed-over bundle.
ALTER TABLE broadcasts ADD COLUMN writers_only INTEGER NOT NULL DEFAULT 0;
ALTER TABLE broadcasts ADD COLUMN writers_bundle INTEGER;
ALTER TABLE approval_requests ADD COLUMN writers_only INTEGER NOT NULL DEFAULT 0;
ALTER TABLE approval_requests ADD COLUMN writers_bundle INTEGER;

-- One row per audit entry the admins are alerted of, written with the entry (same
-- transaction); queued_at is set once, by the one conditional UPDATE that queues the alerts.
CREATE TABLE admin_alerts (
    audit_id  INTEGER PRIMARY KEY REFERENCES audit_log (id) ON DELETE CASCADE,
    kind      TEXT    NOT NULL,
    queued_at INTEGER
);
CREATE INDEX admin_alerts_waiting ON admin_alerts (audit_id) WHERE queued_at IS NULL;

-- The kinds of alert an admin chose not to get (/alerts); no row: alerted.
CREATE TABLE alert_mutes (
    user_id INTEGER NOT NULL,
    kind    TEXT    NOT NULL,
    PRIMARY KEY (user_id, kind)
);

-- Announcements that go out at a chosen minute. A row leaves 'scheduled' (or 'late') exactly
-- once, by a conditional UPDATE in the transaction that queues the announcement, so a restart
-- or two ticks at once never send it twice. 'awaiting_approval': the two-person rule (or a
-- link outside LINK_DOMAINS) holds it until a second coordinator approves; 'late': the bot
-- was down for more than an hour past its time, and the author is asked.
CREATE TABLE scheduled_announcements (
    id           INTEGER PRIMARY KEY,
    author_id    INTEGER NOT NULL,
    audience     TEXT    NOT NULL,
    writers_bundle INTEGER,                        -- audience 'writers': of this bundle only
    text_ko      TEXT,
    text_en      TEXT,
    send_at      INTEGER NOT NULL,                 -- epoch seconds, the start of a minute
    state        TEXT    NOT NULL
                 CHECK (state IN ('awaiting_approval', 'scheduled', 'late', 'sent', 'cancelled')),
    approval_id  INTEGER REFERENCES approval_requests (id),
    author_told  INTEGER NOT NULL DEFAULT 0,       -- told it still waits for approval
    broadcast_id INTEGER REFERENCES broadcasts (id),
    created_at   INTEGER NOT NULL,
    decided_by   INTEGER,                          -- who sent it now or cancelled it
    decided_at   INTEGER
);
CREATE INDEX scheduled_announcements_due ON scheduled_announcements (send_at)
    WHERE state IN ('awaiting_approval', 'scheduled', 'late');

-- The soldiers' answers: a scan or photo and its transcription, linked to the bundles whose
-- letters they answer. Published once (a conditional UPDATE in the publishing transaction):
-- every writer of those bundles is told in their language, everyone else gets an update.
CREATE TABLE answers (
    id            INTEGER PRIMARY KEY,
    author_id     INTEGER NOT NULL,
    text_ko       TEXT,
    text_en       TEXT,
    photo_file_id TEXT,
    state         TEXT    NOT NULL
                  CHECK (state IN ('awaiting_approval', 'ready', 'published', 'rejected')),
    approval_id   INTEGER REFERENCES approval_requests (id),
    update_id     INTEGER REFERENCES updates (id),
    created_at    INTEGER NOT NULL,
    published_at  INTEGER
);
CREATE TABLE answer_bundles (
    answer_id INTEGER NOT NULL REFERENCES answers (id) ON DELETE CASCADE,
    bundle_id INTEGER NOT NULL REFERENCES bundles (id),
    PRIMARY KEY (answer_id, bundle_id)
);
