-- Storage v2 (docs/storage-format.md): samples as compressed columnar chunks, one row per chunk of one user,
-- relay, session and channel. The key is the chunk's first (seq, idx): a replayed flush writes the same chunks
-- (the object persists its flush selection), so INSERT OR IGNORE inserts nothing twice. WITHOUT ROWID: the key
-- is the only index that is not written separately; every index is a billed row per chunk written.
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
  data       BLOB    NOT NULL,
  PRIMARY KEY (user_id, relay_id, ch, first_seq, first_idx)
) WITHOUT ROWID;

-- Range reads and downsampling: a chunk spans at most MAX_CHUNK_SPAN_MS of t, so the chunks touching
-- [from, to) are those with t_min in [from - span, to).
CREATE INDEX IF NOT EXISTS sample_chunks_by_time ON sample_chunks (user_id, t_min);
