-- Storage v2 (docs/storage-format.md): samples as compressed columnar chunks, one row per chunk of one user,
-- relay, session and channel.
-- A rowid table: its rows (a blob of a few KB) pack into pages; WITHOUT ROWID stored them at ~4.7 KB a row.
CREATE TABLE IF NOT EXISTS sample_chunks (
  user_id    TEXT    NOT NULL,
  relay_id   TEXT    NOT NULL,
  ch         TEXT    NOT NULL,
  first_seq  INTEGER NOT NULL,
  first_idx  INTEGER NOT NULL,
  session_id TEXT    NOT NULL,
  n          INTEGER NOT NULL,
  t_min      INTEGER NOT NULL,
  t_max      INTEGER NOT NULL,
  v_min      REAL    NOT NULL,
  v_max      REAL    NOT NULL,
  -- NULL when the sum overflows a double.
  v_sum      REAL,
  v_first    REAL    NOT NULL,
  v_last     REAL    NOT NULL,
  data       BLOB    NOT NULL
);

-- The only index (each index is one more billed row per chunk written), serving both:
-- * range reads: a chunk spans at most an hour of t, so the chunks touching [from, to) are those with t_min in
--   [from - 1 h, to), read in (t_min, relay_id, ch, first_seq, first_idx) order;
-- * nothing twice: a chunk's key is its series and first (seq, idx); its t_min follows from its samples, and the
--   object rewrites a retried flush's selection exactly, so a replay meets the same key and INSERT OR IGNORE
--   skips it.
CREATE UNIQUE INDEX IF NOT EXISTS sample_chunks_by_time ON sample_chunks (user_id, t_min, relay_id, ch, first_seq, first_idx);
