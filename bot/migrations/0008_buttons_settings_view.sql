-- Only the newest /settings message is live: each one shown gets a new random token, its
-- buttons carry it, and a press whose token is not the member's current one changes nothing.

ALTER TABLE members ADD COLUMN settings_view INTEGER NOT NULL DEFAULT 0;
