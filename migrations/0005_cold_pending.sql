-- Cold objects being written (docs/storage-format.md, "Tiers"). A move records its object's key here before the
-- R2 put and removes it in the D1 batch that indexes the object. A key still here after a while names an object
-- a crash left unindexed, which nothing reads: the tier job deletes that object and the row.
CREATE TABLE IF NOT EXISTS cold_pending (
  object_key TEXT    NOT NULL PRIMARY KEY,
  user_id    TEXT    NOT NULL,
  started_at INTEGER NOT NULL
) WITHOUT ROWID;
