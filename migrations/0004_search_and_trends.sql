-- Search, hashtags and trends. Forward-only: never edit this file once it has landed.

-- Public use of each hashtag: the posts that carry it and are public and not deleted. Kept in
-- the write that tags, edits or deletes a post, so hashtag search and autocompletion count
-- without walking post_tags, and a tag used only in followers-only posts is never shown.
CREATE TABLE tag_stats (
    tag       TEXT    PRIMARY KEY,
    posts     INTEGER NOT NULL,
    last_used INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO tag_stats (tag, posts, last_used)
    SELECT t.tag, count(*), max(p.created_at) FROM post_tags t JOIN posts p ON p.id = t.post_id
    WHERE p.visibility = 0 AND p.deleted_at IS NULL
    GROUP BY t.tag;

-- Hashtags an account follows: their public posts join its home feed.
CREATE TABLE followed_tags (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    tag        TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, tag)
) WITHOUT ROWID;
CREATE INDEX followed_tags_tag ON followed_tags(tag, account_id);

-- Accounts that asked not to appear in search (their posts and their profile).
CREATE TABLE search_opt_outs (
    account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL
);

-- What moderators took out of trends.
CREATE TABLE trend_hidden_tags (
    tag        TEXT    PRIMARY KEY,
    hidden_by  INTEGER NOT NULL REFERENCES accounts(id),
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE trend_hidden_posts (
    post_id    INTEGER PRIMARY KEY REFERENCES posts(id),
    hidden_by  INTEGER NOT NULL REFERENCES accounts(id),
    created_at INTEGER NOT NULL
);
