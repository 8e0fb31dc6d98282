-- Korean translations of letters not written in Korean, and the translator role that makes them.

-- On the letter's own row, so it is erased with the letter (withdrawal, /forget, retention).
ALTER TABLE letters ADD COLUMN translation   TEXT;     -- Korean, checked like a letter
ALTER TABLE letters ADD COLUMN translated_at INTEGER;
ALTER TABLE letters ADD COLUMN translated_by INTEGER;

-- The translator role: SQLite cannot change a CHECK constraint, so the table is rebuilt.
CREATE TABLE roles_new (
    user_id    INTEGER NOT NULL,
    role       TEXT    NOT NULL CHECK (role IN ('coordinator', 'courier', 'translator')),
    granted_by INTEGER NOT NULL,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, role)
);
INSERT INTO roles_new (user_id, role, granted_by, granted_at)
    SELECT user_id, role, granted_by, granted_at FROM roles;
DROP TABLE roles;
ALTER TABLE roles_new RENAME TO roles;

-- What /translate shows next: approved letters not in Korean and not yet translated.
CREATE INDEX letters_to_translate ON letters (created_at, id)
    WHERE state = 'approved' AND language != 'ko' AND translation IS NULL;
