-- Coordinators' tools: admins alerted of privileged actions as they happen.

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
