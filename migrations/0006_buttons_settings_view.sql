-- Only the newest /settings message is live: each one shown gets the next number, its buttons
-- carry it, and a press whose number is not the member's current one changes nothing.

ALTER TABLE members ADD COLUMN settings_view INTEGER NOT NULL DEFAULT 0;
