-- Durable job queue. A job is written in the same transaction as the change that causes it,
-- so a crash between the two cannot lose it; workers delete a job when it is done.
-- state: 0 queued (due at run_at, in ms), 1 dead (gave up after too many attempts; shown to
-- the admin, who may retry it).
CREATE TABLE jobs (
    id         INTEGER PRIMARY KEY,
    kind       TEXT    NOT NULL,
    payload    TEXT    NOT NULL,
    state      INTEGER NOT NULL DEFAULT 0,
    run_at     INTEGER NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
CREATE INDEX jobs_due ON jobs(state, run_at, id);

-- Bounded home feeds, filled on write for accounts that read their home feed. Entries are
-- candidate rows of `posts` (posts and reposts by the people followed, and one's own); what a
-- reader may see is still decided at read time, so a stale entry can never leak a post.
-- The pull query over follows and posts is the source of truth and the fallback.
CREATE TABLE home_feeds (
    account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    -- Entries are complete for every post id >= floor; older pages come from the pull query.
    floor      INTEGER NOT NULL,
    built_at   INTEGER NOT NULL
);
CREATE TABLE home_entries (
    account_id INTEGER NOT NULL,
    post_id    INTEGER NOT NULL,
    PRIMARY KEY (account_id, post_id)
) WITHOUT ROWID;

-- Deleting a post clears its bookmarks; without this, that walked the whole table.
CREATE INDEX bookmarks_post ON bookmarks(post_id);
