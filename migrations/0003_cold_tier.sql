-- Storage tiers (docs/storage-format.md, "Tiers"). The cold tier: chunks whose samples are older than
-- COLD_AFTER_S move to R2 (binding COLD), packed into objects of one user and period; D1 keeps this index.

-- One row per R2 object: what it holds, so that erasure, retention and storage_bytes{tier="r2"} need no listing.
CREATE TABLE IF NOT EXISTS cold_objects (
  object_key TEXT    NOT NULL PRIMARY KEY,
  user_id    TEXT    NOT NULL,
  t_min      INTEGER NOT NULL,
  t_max      INTEGER NOT NULL,
  bytes      INTEGER NOT NULL,
  chunks     INTEGER NOT NULL,
  samples    INTEGER NOT NULL,
  -- JSON array of the channel names in the object.
  channels   TEXT    NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS cold_objects_by_user ON cold_objects (user_id, t_min);

-- One row per chunk in R2: the same key and statistics columns as sample_chunks, and where its bytes are, so a
-- read selects chunks with the same SQL for both tiers and fetches only their byte ranges (R2 range reads).
CREATE TABLE IF NOT EXISTS cold_chunks (
  user_id     TEXT    NOT NULL,
  relay_id    TEXT    NOT NULL,
  ch          TEXT    NOT NULL,
  first_seq   INTEGER NOT NULL,
  first_idx   INTEGER NOT NULL,
  session_id  TEXT    NOT NULL,
  n           INTEGER NOT NULL,
  t_min       INTEGER NOT NULL,
  t_max       INTEGER NOT NULL,
  v_min       REAL    NOT NULL,
  v_max       REAL    NOT NULL,
  v_sum       REAL,
  v_first     REAL    NOT NULL,
  v_last      REAL    NOT NULL,
  object_key  TEXT    NOT NULL,
  byte_offset INTEGER NOT NULL,
  byte_length INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS cold_chunks_by_time ON cold_chunks (user_id, t_min, relay_id, ch, first_seq, first_idx);
