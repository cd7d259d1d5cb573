-- Photos and videos. A row is one attachment; its files live in the content-addressed blob
-- store (media/ab/cd/<sha256>.<ext>) and are shared by every row with the same content.
-- post_id is NULL while an upload waits in the composer (swept after a day).
-- kind: 0 image, 1 animated GIF, 2 video.
CREATE TABLE media (
    id           INTEGER PRIMARY KEY,
    owner_id     INTEGER NOT NULL REFERENCES accounts(id),
    post_id      INTEGER REFERENCES posts(id),
    position     INTEGER NOT NULL DEFAULT 0,
    kind         INTEGER NOT NULL,
    file         TEXT    NOT NULL,
    mime         TEXT    NOT NULL,
    bytes        INTEGER NOT NULL,
    width        INTEGER NOT NULL DEFAULT 0,
    height       INTEGER NOT NULL DEFAULT 0,
    small_file   TEXT,
    small_width  INTEGER NOT NULL DEFAULT 0,
    small_height INTEGER NOT NULL DEFAULT 0,
    large_file   TEXT,
    large_width  INTEGER NOT NULL DEFAULT 0,
    large_height INTEGER NOT NULL DEFAULT 0,
    blurhash     TEXT    NOT NULL DEFAULT '',
    -- A tiny PNG decoded from the blurhash, as a data: URL, shown while the image loads.
    placeholder  TEXT    NOT NULL DEFAULT '',
    alt          TEXT    NOT NULL DEFAULT '',
    sensitive    INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL
);
CREATE INDEX media_post ON media(post_id, position) WHERE post_id IS NOT NULL;
CREATE INDEX media_waiting ON media(created_at) WHERE post_id IS NULL;
CREATE INDEX media_owner ON media(owner_id, id);

-- How many references each stored file has (media rows, avatars, headers). A file whose
-- count reaches zero is deleted by a job.
CREATE TABLE blobs (
    file       TEXT    PRIMARY KEY,
    refs       INTEGER NOT NULL,
    bytes      INTEGER NOT NULL,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX blobs_unused ON blobs(file) WHERE refs <= 0;

ALTER TABLE posts ADD COLUMN media_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN avatar_file TEXT;
ALTER TABLE accounts ADD COLUMN header_file TEXT;
