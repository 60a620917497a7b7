-- Where each user's samples live when a deployment has several D1 databases (README, "Several D1 databases").
-- Only the `DB` database's copy of this table is used: it is the directory, and a user is recorded here once,
-- before its first flush, so adding a database later moves no one. Users that already had data here when this
-- migration ran stay in `DB`.
CREATE TABLE IF NOT EXISTS user_databases (
  user_id   TEXT    NOT NULL PRIMARY KEY,
  binding   TEXT    NOT NULL,
  placed_at INTEGER NOT NULL
) WITHOUT ROWID;

INSERT OR IGNORE INTO user_databases (user_id, binding, placed_at)
  SELECT user_id, 'DB', 0 FROM sessions
  UNION SELECT user_id, 'DB', 0 FROM sample_chunks
  UNION SELECT user_id, 'DB', 0 FROM cold_objects
  UNION SELECT user_id, 'DB', 0 FROM samples;
