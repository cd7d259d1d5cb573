-- Reports: a person asks the moderators to look at a post (or an account). Forward-only.
-- A report from another server (an ActivityPub Flag) has no local reporter, only its domain.
CREATE TABLE reports (
    id              INTEGER PRIMARY KEY,
    reporter_id     INTEGER REFERENCES accounts(id),
    reporter_domain TEXT,
    target_id       INTEGER NOT NULL REFERENCES accounts(id),
    post_id         INTEGER REFERENCES posts(id),
    reason          TEXT    NOT NULL DEFAULT '',
    -- Sent on to the reported person's server (an ActivityPub Flag).
    forwarded       INTEGER NOT NULL DEFAULT 0,
    uri             TEXT,
    created_at      INTEGER NOT NULL,
    resolved_at     INTEGER,
    resolved_by     INTEGER REFERENCES accounts(id)
);
CREATE INDEX reports_open ON reports(id) WHERE resolved_at IS NULL;
CREATE UNIQUE INDEX reports_uri ON reports(uri) WHERE uri IS NOT NULL;
