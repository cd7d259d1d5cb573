-- Posts pinned to the top of their author's profile (ActivityPub: the featured collection).
-- Forward-only.
CREATE TABLE pins (
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    post_id    INTEGER NOT NULL REFERENCES posts(id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, post_id)
) WITHOUT ROWID;
