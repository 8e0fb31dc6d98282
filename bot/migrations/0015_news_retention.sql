-- News retention: items are purged by the daily job, but an item a feed still lists must not
-- come back as new once its row is gone. So a dedup key outlives its item (item_id set to NULL,
-- no longer CASCADE) and carries when a feed last listed it (seen_at) and which feed that was
-- (feed_id, so a 304 Not Modified, which lists nothing, can refresh that feed's keys); a key
-- is purged only when no feed has listed it for a long time. SQLite cannot alter a foreign
-- key: the table is rebuilt and its rows copied.

CREATE TABLE news_seen_new (
    key     TEXT    PRIMARY KEY,
    item_id INTEGER REFERENCES news_items (id) ON DELETE SET NULL,  -- NULL: item purged
    feed_id INTEGER REFERENCES news_feeds (id) ON DELETE SET NULL,  -- the feed that last listed it
    seen_at INTEGER NOT NULL                                         -- when a feed last listed it
);

-- The existing keys count as listed at their feed's last check (or when their item was found):
-- every feed lists again what it still carries at its next full fetch.
INSERT INTO news_seen_new (key, item_id, feed_id, seen_at)
SELECT s.key, s.item_id, i.feed_id, COALESCE(f.last_checked_at, i.found_at)
FROM news_seen s
JOIN news_items i ON i.id = s.item_id
LEFT JOIN news_feeds f ON f.id = i.feed_id;

DROP TABLE news_seen;
ALTER TABLE news_seen_new RENAME TO news_seen;

CREATE INDEX news_seen_item ON news_seen (item_id);             -- the ON DELETE of an item
CREATE INDEX news_seen_feed ON news_seen (feed_id, seen_at);    -- a 304 refreshes a feed's keys
CREATE INDEX news_seen_age ON news_seen (seen_at);              -- the daily purge

-- "Draft update" marks an item 'drafted' and opens /post with it. While that draft is open the
-- item remembers the state it came from ('new' or 'later'); a draft that ends unpublished
-- (cancelled, replaced, expired, its author erased) puts it back in /news; publishing clears
-- draft_from, so the item stays drafted.
ALTER TABLE news_items ADD COLUMN draft_from TEXT CHECK (draft_from IN ('new', 'later'));
CREATE INDEX news_items_held ON news_items (id) WHERE draft_from IS NOT NULL;
