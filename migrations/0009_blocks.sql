-- Blocks between people. Forward-only.
-- A block ends follows both ways and keeps the two apart: no follows, replies, quotes,
-- likes, reposts or mentions between them, and neither sees the other's posts in feeds.
CREATE TABLE blocks (
    blocker_id INTEGER NOT NULL REFERENCES accounts(id),
    blocked_id INTEGER NOT NULL REFERENCES accounts(id),
    created_at INTEGER NOT NULL,
    -- The Block activity's id when it crossed servers (its Undo names it).
    activity_id TEXT,
    PRIMARY KEY (blocker_id, blocked_id)
) WITHOUT ROWID;
CREATE INDEX blocks_blocked ON blocks(blocked_id, blocker_id);
