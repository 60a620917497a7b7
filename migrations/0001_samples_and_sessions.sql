-- docs/storage-format.md. The primary key makes a replayed flush insert nothing twice (INSERT OR IGNORE).
CREATE TABLE IF NOT EXISTS samples (
  user_id    TEXT    NOT NULL,
  relay_id   TEXT    NOT NULL,
  session_id TEXT    NOT NULL,
  seq        INTEGER NOT NULL,
  idx        INTEGER NOT NULL,
  t          INTEGER NOT NULL,
  ch         TEXT    NOT NULL,
  v          REAL    NOT NULL,
  PRIMARY KEY (user_id, relay_id, seq, idx)
) WITHOUT ROWID;

-- GET /v1/users/:user_id/samples?from&to reads by user and time, oldest first.
CREATE INDEX IF NOT EXISTS samples_by_user_time ON samples (user_id, t);

CREATE TABLE IF NOT EXISTS sessions (
  user_id      TEXT    NOT NULL,
  session_id   TEXT    NOT NULL,
  relay_id     TEXT    NOT NULL,
  started_at   INTEGER NOT NULL,
  ended_at     INTEGER,
  sample_count INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (user_id, session_id)
);
