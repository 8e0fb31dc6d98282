-- Letters of encouragement, and the bundles a courier prints and hands over.
-- Times are whole seconds since the Unix epoch, UTC.

-- One row per PDF the bot made. AUTOINCREMENT: a bundle's number is printed and told to the
-- courier, so a number is never reused, even after a failed send deleted its row.
CREATE TABLE bundles (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    created_by   INTEGER NOT NULL,               -- the courier who asked for it
    created_at   INTEGER NOT NULL,
    letter_count INTEGER NOT NULL,
    sent_at      INTEGER,                        -- NULL while the PDF is on its way
    delivered_on TEXT,                           -- YYYY-MM-DD: a day, told by the courier
    delivered_at INTEGER,                        -- when the courier confirmed it
    delivered_by INTEGER
);

CREATE TABLE letters (
    id            INTEGER PRIMARY KEY,
    -- Only to tell the writer what became of their letter: never shown to coordinators or
    -- couriers, never printed, never written to the audit log.
    user_id       INTEGER NOT NULL REFERENCES members (user_id) ON DELETE CASCADE,
    language      TEXT    NOT NULL CHECK (language IN ('ko', 'en')),  -- what it is written in
    pen_name      TEXT    NOT NULL,
    text          TEXT    NOT NULL,              -- cleaned by letter_rules; '' once withdrawn
    state         TEXT    NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'approved', 'rejected', 'withdrawn', 'bundled',
                                   'delivered')),
    reject_reason TEXT,                          -- a code from services/letters.RejectReason
    reject_note   TEXT,                          -- the coordinator's words for "other"
    created_at    INTEGER NOT NULL,
    decided_at    INTEGER,                       -- approved, rejected or withdrawn
    decided_by    INTEGER,
    -- Set when a bundle claims an approved letter; the state becomes 'bundled' only once the
    -- PDF has reached the courier, so a failed send loses nothing.
    bundle_id     INTEGER REFERENCES bundles (id) ON DELETE SET NULL,
    delivered_at  INTEGER
);

-- The review queue, oldest first.
CREATE INDEX letters_review ON letters (created_at, id) WHERE state = 'pending';
-- A member's letters, newest first, and how many they wrote today.
CREATE INDEX letters_by_member ON letters (user_id, created_at);
-- What the next bundle takes, and a bundle's letters.
CREATE INDEX letters_to_bundle ON letters (created_at) WHERE state = 'approved' AND bundle_id IS NULL;
CREATE INDEX letters_by_bundle ON letters (bundle_id, state);
