-- weft schema, version 1. Forward-only: never edit this file once it has landed.
-- Ids are time-sortable 64-bit integers made by the application (see src/domain/ids.rs).
-- Times are Unix seconds.

CREATE TABLE accounts (
    id                    INTEGER PRIMARY KEY,
    username              TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    email                 TEXT,
    password_hash         TEXT    NOT NULL,
    display_name          TEXT    NOT NULL DEFAULT '',
    bio                   TEXT    NOT NULL DEFAULT '',
    fields                TEXT    NOT NULL DEFAULT '[]', -- JSON array of [name, value]
    role                  INTEGER NOT NULL DEFAULT 0,    -- 0 user, 1 moderator, 2 admin
    verified_at           INTEGER,
    locked                INTEGER NOT NULL DEFAULT 0,    -- approves followers by hand
    status                INTEGER NOT NULL DEFAULT 0,    -- 0 active, 1 awaiting approval, 2 suspended
    signup_reason         TEXT    NOT NULL DEFAULT '',
    created_at            INTEGER NOT NULL,
    posts_count           INTEGER NOT NULL DEFAULT 0,
    followers_count       INTEGER NOT NULL DEFAULT 0,
    following_count       INTEGER NOT NULL DEFAULT 0,
    notifications_seen_id INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX accounts_status ON accounts(status, id);

-- The cookie holds a random token; only its SHA-256 is stored, so a copy of the database
-- cannot be used to take over sessions.
CREATE TABLE sessions (
    token_hash   BLOB    PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    csrf         TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    user_agent   TEXT    NOT NULL DEFAULT '',
    ip           TEXT    NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX sessions_account ON sessions(account_id);

-- Posts, replies, quotes and reposts. A repost is a row with repost_of_id and no text.
-- Deleted posts keep their row (body cleared) so threads keep their shape.
CREATE TABLE posts (
    id                    INTEGER PRIMARY KEY,
    author_id             INTEGER NOT NULL REFERENCES accounts(id),
    body                  TEXT    NOT NULL DEFAULT '',
    content_warning       TEXT    NOT NULL DEFAULT '',
    visibility            INTEGER NOT NULL DEFAULT 0,    -- 0 public, 1 followers, 2 mentioned
    reply_policy          INTEGER NOT NULL DEFAULT 0,    -- 0 anyone, 1 following, 2 mentioned
    in_reply_to_id        INTEGER REFERENCES posts(id),
    in_reply_to_author_id INTEGER REFERENCES accounts(id),
    root_id               INTEGER NOT NULL,              -- first post of the conversation
    quote_id              INTEGER REFERENCES posts(id),
    repost_of_id          INTEGER REFERENCES posts(id),
    hidden                INTEGER NOT NULL DEFAULT 0,    -- reply hidden by the conversation's author
    created_at            INTEGER NOT NULL,
    edited_at             INTEGER,
    deleted_at            INTEGER,
    reply_count           INTEGER NOT NULL DEFAULT 0,
    repost_count          INTEGER NOT NULL DEFAULT 0,
    like_count            INTEGER NOT NULL DEFAULT 0,
    quote_count           INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX posts_author ON posts(author_id, id);
CREATE INDEX posts_replies ON posts(in_reply_to_id, id) WHERE in_reply_to_id IS NOT NULL;
CREATE INDEX posts_root ON posts(root_id, id);
CREATE UNIQUE INDEX posts_repost_once ON posts(repost_of_id, author_id) WHERE repost_of_id IS NOT NULL;
CREATE INDEX posts_quotes ON posts(quote_id) WHERE quote_id IS NOT NULL;
CREATE INDEX posts_public ON posts(id)
    WHERE visibility = 0 AND in_reply_to_id IS NULL AND repost_of_id IS NULL AND deleted_at IS NULL;

-- Earlier versions of edited posts; the current text stays in posts.
CREATE TABLE post_edits (
    id              INTEGER PRIMARY KEY,
    post_id         INTEGER NOT NULL REFERENCES posts(id),
    body            TEXT    NOT NULL,
    content_warning TEXT    NOT NULL,
    written_at      INTEGER NOT NULL
);
CREATE INDEX post_edits_post ON post_edits(post_id, id);

-- Accounts a post addresses: @mentions, and the author of the post it replies to.
CREATE TABLE mentions (
    post_id    INTEGER NOT NULL REFERENCES posts(id),
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    PRIMARY KEY (post_id, account_id)
) WITHOUT ROWID;
CREATE INDEX mentions_account ON mentions(account_id, post_id);

CREATE TABLE post_tags (
    tag     TEXT    NOT NULL,
    post_id INTEGER NOT NULL REFERENCES posts(id),
    PRIMARY KEY (tag, post_id)
) WITHOUT ROWID;
CREATE INDEX post_tags_post ON post_tags(post_id);

CREATE TABLE likes (
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    post_id    INTEGER NOT NULL REFERENCES posts(id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, post_id)
) WITHOUT ROWID;
CREATE INDEX likes_post ON likes(post_id);

CREATE TABLE bookmarks (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    post_id    INTEGER NOT NULL REFERENCES posts(id),
    created_at INTEGER NOT NULL,
    UNIQUE (account_id, post_id)
);
CREATE INDEX bookmarks_account ON bookmarks(account_id, id);

CREATE TABLE follows (
    id          INTEGER PRIMARY KEY,
    follower_id INTEGER NOT NULL REFERENCES accounts(id),
    followee_id INTEGER NOT NULL REFERENCES accounts(id),
    created_at  INTEGER NOT NULL,
    UNIQUE (follower_id, followee_id)
);
CREATE INDEX follows_follower ON follows(follower_id, id);
CREATE INDEX follows_followee ON follows(followee_id, id);

CREATE TABLE follow_requests (
    id           INTEGER PRIMARY KEY,
    requester_id INTEGER NOT NULL REFERENCES accounts(id),
    target_id    INTEGER NOT NULL REFERENCES accounts(id),
    created_at   INTEGER NOT NULL,
    UNIQUE (requester_id, target_id)
);
CREATE INDEX follow_requests_target ON follow_requests(target_id, id);

-- kind: 0 reply, 1 mention, 2 quote, 3 repost, 4 like, 5 follow, 6 follow request
CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    kind       INTEGER NOT NULL,
    actor_id   INTEGER NOT NULL REFERENCES accounts(id),
    post_id    INTEGER REFERENCES posts(id),
    created_at INTEGER NOT NULL
);
CREATE INDEX notifications_account ON notifications(account_id, id);
CREATE INDEX notifications_post ON notifications(post_id) WHERE post_id IS NOT NULL;

-- Settings an admin changes at run time (registration mode, login to read, instance name).
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
