-- Account migration. Forward-only.
-- moved_to: the ActivityPub id of the account this one moved to (its followers were moved).
-- aliases: JSON array of the ActivityPub ids of accounts this one says it also is, so that
-- they can move here (published as alsoKnownAs).
ALTER TABLE accounts ADD COLUMN moved_to TEXT;
ALTER TABLE accounts ADD COLUMN aliases TEXT NOT NULL DEFAULT '[]';
