-- /forget: an erase deletes rows at once (secure_delete zeroes them); the rewrite of the file
-- that removes every last copy is queued here and batched, so many erases cost one rewrite,
-- and a queued rewrite survives a restart.

CREATE TABLE compaction_queue (
    id           INTEGER PRIMARY KEY CHECK (id = 1),   -- at most one: requests coalesce
    requested_at INTEGER NOT NULL
);
