-- Summaries that nobody misses (issue 16).
--
-- digest_last_update_id now means "the newest update this member has had, or had held for a
-- summary" only while they are subscribed and on a summary or paused; leaving summaries for
-- "at once" queues what was held, and clears it. Rows from before: clear stale starting points
-- (instant or unsubscribed members would otherwise get old updates again), and give paused
-- members a starting point from now.
UPDATE members SET digest_last_update_id = NULL
 WHERE subscribed = 0 OR delivery_mode = 'instant';
UPDATE members SET digest_last_update_id = (SELECT COALESCE(MAX(id), 0) FROM updates)
 WHERE subscribed = 1 AND delivery_mode = 'paused' AND digest_last_update_id IS NULL;

-- How many summary readers an update was to reach when it was published (the broadcast's
-- `recipients` counts only those who get it at once).
ALTER TABLE broadcasts ADD COLUMN digest_recipients INTEGER NOT NULL DEFAULT 0;
