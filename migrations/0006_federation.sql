-- Federation (ActivityPub). Forward-only: never edit this file once it has landed.
--
-- A remote person is a row in `accounts` like a local one (username "name@host", no password,
-- so no login), which lets follows, posts, likes, notifications and feeds work unchanged;
-- what the protocol needs beside it lives in `actors`.
CREATE TABLE actors (
    account_id    INTEGER PRIMARY KEY REFERENCES accounts(id),
    uri           TEXT    NOT NULL UNIQUE,
    domain        TEXT    NOT NULL,
    inbox         TEXT    NOT NULL,
    shared_inbox  TEXT,
    followers_uri TEXT,
    url           TEXT,
    key_id        TEXT    NOT NULL,
    public_key    TEXT    NOT NULL,
    kind          TEXT    NOT NULL DEFAULT 'Person',
    fetched_at    INTEGER NOT NULL
);
CREATE INDEX actors_domain ON actors(domain);
CREATE INDEX actors_key ON actors(key_id);

-- Local accounts' signing keys, made the first time federation needs one.
CREATE TABLE account_keys (
    account_id  INTEGER PRIMARY KEY REFERENCES accounts(id),
    private_pem TEXT    NOT NULL,
    public_pem  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);

-- A remote post: its ActivityPub id, its page on its own server, and its HTML as sanitised
-- on arrival (`body` holds the plain text, for search and previews). NULL for local posts.
ALTER TABLE posts ADD COLUMN uri TEXT;
ALTER TABLE posts ADD COLUMN url TEXT;
ALTER TABLE posts ADD COLUMN content_html TEXT;
CREATE UNIQUE INDEX posts_uri ON posts(uri) WHERE uri IS NOT NULL;

-- Ids of activities accepted into the inbox: a redelivered one is acknowledged, not redone.
CREATE TABLE inbox_seen (
    activity_id TEXT    PRIMARY KEY,
    received_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX inbox_seen_age ON inbox_seen(received_at);

-- The id of the Follow activity behind a follow or a waiting request that crosses servers:
-- Accept, Reject and Undo name it.
CREATE TABLE follow_activities (
    follower_id INTEGER NOT NULL REFERENCES accounts(id),
    followee_id INTEGER NOT NULL REFERENCES accounts(id),
    activity_id TEXT    NOT NULL,
    PRIMARY KEY (follower_id, followee_id)
) WITHOUT ROWID;
CREATE INDEX follow_activities_id ON follow_activities(activity_id);

-- Other servers: delivery health (a peer that keeps failing for days is skipped) and the
-- admin's domain blocks (1 silence: kept out of public feeds; 2 suspend: nothing in or out).
CREATE TABLE instances (
    domain           TEXT    PRIMARY KEY,
    failures         INTEGER NOT NULL DEFAULT 0,
    first_failure_at INTEGER,
    last_success_at  INTEGER,
    block            INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
