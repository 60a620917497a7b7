/**
 * The highest acked `seq` of each relay of the user (SPEC §3 dedup), persisted so that a frame resent after a
 * reconnect, an eviction or a deploy is recognised as a duplicate. Kept in memory as well: every samples
 * frame reads it.
 */
export class RelayMarks {
  readonly #marks = new Map<string, number>();

  constructor(private readonly sql: SqlStorage) {
    sql.exec(`CREATE TABLE IF NOT EXISTS relays (
      relay_id  TEXT    PRIMARY KEY,
      high_seq  INTEGER NOT NULL,
      last_seen INTEGER NOT NULL
    ) WITHOUT ROWID`);
    for (const row of sql.exec<{ relay_id: string; high_seq: number }>(
      "SELECT relay_id, high_seq FROM relays",
    )) {
      this.#marks.set(row.relay_id, row.high_seq);
    }
  }

  /** Highest acked seq of the relay, or 0 for a relay never seen. */
  highest(relayId: string): number {
    return this.#marks.get(relayId) ?? 0;
  }

  knows(relayId: string): boolean {
    return this.#marks.has(relayId);
  }

  /** Raises the relay's mark (in the same transaction as the frame it acknowledges). */
  advance(relayId: string, seq: number, now: number): void {
    this.sql.exec(
      `INSERT INTO relays (relay_id, high_seq, last_seen) VALUES (?, ?, ?)
       ON CONFLICT (relay_id) DO UPDATE SET high_seq = MAX(high_seq, excluded.high_seq), last_seen = excluded.last_seen`,
      relayId,
      seq,
      now,
    );
    if (seq > this.highest(relayId)) this.#marks.set(relayId, seq);
  }
}
