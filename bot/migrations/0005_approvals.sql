-- The two-person rule (BROADCAST_APPROVALS=2): a post or announcement waits here until a
-- second coordinator approves it; nothing reaches subscribers before that.

CREATE TABLE approval_requests (
    id            INTEGER PRIMARY KEY,
    kind          TEXT    NOT NULL CHECK (kind IN ('update', 'announcement')),
    author_id     INTEGER NOT NULL,
    audience      TEXT    NOT NULL DEFAULT 'all' CHECK (audience IN ('all', 'ko', 'en')),
    text_ko       TEXT,
    text_en       TEXT,
    photo_file_id TEXT,
    state         TEXT    NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'approved', 'rejected')),
    decided_by    INTEGER,
    created_at    INTEGER NOT NULL,
    decided_at    INTEGER
);

CREATE INDEX approval_requests_pending ON approval_requests (created_at) WHERE state = 'pending';
