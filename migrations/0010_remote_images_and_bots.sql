-- Forward-only.
-- The addresses of a remote actor's avatar and header as last fetched (refetched when they
-- change), and accounts run by software ("bots", ActivityPub type Service).
ALTER TABLE actors ADD COLUMN icon_url TEXT;
ALTER TABLE actors ADD COLUMN image_url TEXT;
ALTER TABLE accounts ADD COLUMN bot INTEGER NOT NULL DEFAULT 0;
