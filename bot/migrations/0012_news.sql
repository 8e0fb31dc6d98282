-- News watch: feeds coordinators follow, the items found in them waiting in /news, and who
-- asked for a notice when new ones arrive. Feeds are not personal data: no row here says who
-- added a feed (the audit log does, and /forget anonymizes it there).

CREATE TABLE news_feeds (
    id              INTEGER PRIMARY KEY,
    url             TEXT    NOT NULL UNIQUE,
    title           TEXT,                          -- from the feed itself, cleaned
    keywords        TEXT    NOT NULL DEFAULT '[]', -- JSON list; empty: every item counts
    paused          INTEGER NOT NULL DEFAULT 0,
    etag            TEXT,
    last_modified   TEXT,
    next_check_at   INTEGER NOT NULL DEFAULT 0,
    last_checked_at INTEGER,
    last_new_at     INTEGER,
    last_error      TEXT,                          -- a kind (timeout, too_large...), never text
    failures        INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL
);

CREATE TABLE news_items (
    id           INTEGER PRIMARY KEY,
    feed_id      INTEGER REFERENCES news_feeds (id) ON DELETE SET NULL,
    source       TEXT    NOT NULL,
    title        TEXT    NOT NULL,
    link         TEXT,
    summary      TEXT    NOT NULL DEFAULT '',
    published_at INTEGER,
    found_at     INTEGER NOT NULL,
    state        TEXT    NOT NULL DEFAULT 'new'
                 CHECK (state IN ('new', 'later', 'dismissed', 'drafted')),
    decided_at   INTEGER
);

CREATE INDEX news_items_waiting ON news_items (state, found_at) WHERE state IN ('new', 'later');

-- Every identity an item was seen under (guid, normalized link, normalized title), hashed, so
-- one story syndicated by three feeds is queued once.
CREATE TABLE news_seen (
    key     TEXT    PRIMARY KEY,
    item_id INTEGER NOT NULL REFERENCES news_items (id) ON DELETE CASCADE
);

-- Coordinators who opted in to a notice (at most one an hour) when new items arrive.
CREATE TABLE news_watchers (
    user_id        INTEGER PRIMARY KEY REFERENCES members (user_id) ON DELETE CASCADE,
    since          INTEGER NOT NULL,
    last_notice_at INTEGER
);
