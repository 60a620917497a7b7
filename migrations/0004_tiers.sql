-- Storage tiers' jobs (docs/storage-format.md, "Tiers").

-- One row per flush batch D1 committed, written in that batch. A retried flush (its answer was lost) finds its
-- mark and inserts nothing: INSERT OR IGNORE on the chunk key alone would re-insert chunks that compaction has
-- merged since. Marks older than FLUSH_MARK_DAYS are pruned by the tier job.
CREATE TABLE IF NOT EXISTS flush_marks (
  user_id    TEXT    NOT NULL,
  flush_id   TEXT    NOT NULL,
  written_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, flush_id)
) WITHOUT ROWID;

-- Where each user's jobs have got to: compaction is done for chunks with t_min below compacted_until.
CREATE TABLE IF NOT EXISTS tier_progress (
  user_id         TEXT    NOT NULL PRIMARY KEY,
  compacted_until INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- One row: the tier job's lease (two cron runs never work at once) and where its round over users got to.
CREATE TABLE IF NOT EXISTS tier_job (
  id          INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
  lease_until INTEGER NOT NULL DEFAULT 0,
  user_cursor TEXT    NOT NULL DEFAULT ''
);
INSERT OR IGNORE INTO tier_job (id) VALUES (1);
