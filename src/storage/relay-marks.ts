/** How long the hole of a refused frame waits for its resend; after that the relay is taken to have dropped it. */
export const HOLE_TTL_MS = 10 * 60_000;
/** Holes kept per relay (a relay's window of frames in flight is far smaller); beyond it the oldest go. */
export const MAX_HOLES_PER_RELAY = 4_096;

/**
 * The highest acked `seq` of each relay of the user (SPEC §3 dedup), persisted so that a frame resent after a
 * reconnect, an eviction or a deploy is recognised as a duplicate. Kept in memory as well: every samples
 * frame reads it.
 *
 * Holes: a relay with several frames in flight may have frame 49 refused (buffer_full, internal) while frame 50
 * is acked. SPEC §3's rule alone ("not above the highest acked seq: a duplicate") would then ack the resent 49
 * without storing it: an acked frame lost. So the seq of every frame refused with a retryable error is kept as
 * a hole until the frame is stored; a hole's seq is never a duplicate. Frames that were acked stay duplicates.
 */
export class RelayMarks {
  readonly #marks = new Map<string, number>();
  /** relay id → (seq → refused at, epoch ms); insertion order is age order. */
  readonly #holes = new Map<string, Map<number, number>>();

  constructor(private readonly sql: SqlStorage) {
    sql.exec(`CREATE TABLE IF NOT EXISTS relays (
      relay_id  TEXT    PRIMARY KEY,
      high_seq  INTEGER NOT NULL,
      last_seen INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS relay_holes (
      relay_id   TEXT    NOT NULL,
      seq        INTEGER NOT NULL,
      refused_at INTEGER NOT NULL,
      PRIMARY KEY (relay_id, seq)
    ) WITHOUT ROWID`);
    for (const row of sql.exec<{ relay_id: string; high_seq: number }>(
      "SELECT relay_id, high_seq FROM relays",
    )) {
      this.#marks.set(row.relay_id, row.high_seq);
    }
    for (const row of sql.exec<{ relay_id: string; seq: number; refused_at: number }>(
      "SELECT relay_id, seq, refused_at FROM relay_holes ORDER BY refused_at",
    )) {
      this.#holesOf(row.relay_id).set(row.seq, row.refused_at);
    }
  }

  /** Highest acked seq of the relay, or 0 for a relay never seen. */
  highest(relayId: string): number {
    return this.#marks.get(relayId) ?? 0;
  }

  knows(relayId: string): boolean {
    return this.#marks.has(relayId);
  }

  /**
   * True when `seq` is the hole of a refused frame (not expired): the frame is being resent and must be stored.
   * The hole is taken from memory at once, so that a second copy in the same batch is a duplicate; its row goes
   * with the frame's transaction (fillHole), or comes back with the state if that transaction fails.
   */
  takeHole(relayId: string, seq: number, now: number): boolean {
    const holes = this.#holes.get(relayId);
    const refusedAt = holes?.get(seq);
    if (holes === undefined || refusedAt === undefined) return false;
    holes.delete(seq);
    if (now - refusedAt < HOLE_TTL_MS) return true;
    this.fillHole(relayId, seq);
    return false;
  }

  /** A frame of the relay was refused with a retryable error: its resend must be stored, whatever was acked since. */
  addHole(relayId: string, seq: number, now: number): void {
    const holes = this.#holesOf(relayId);
    holes.delete(seq);
    holes.set(seq, now);
    this.sql.exec(
      "INSERT OR REPLACE INTO relay_holes (relay_id, seq, refused_at) VALUES (?, ?, ?)",
      relayId,
      seq,
      now,
    );
    for (const oldest of holes.keys()) {
      if (holes.size <= MAX_HOLES_PER_RELAY) break;
      holes.delete(oldest);
      this.fillHole(relayId, oldest);
    }
  }

  /** Removes the stored row of a hole (in the transaction that stores its frame). */
  fillHole(relayId: string, seq: number): void {
    this.sql.exec("DELETE FROM relay_holes WHERE relay_id = ? AND seq = ?", relayId, seq);
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

  #holesOf(relayId: string): Map<number, number> {
    let holes = this.#holes.get(relayId);
    if (!holes) {
      holes = new Map();
      this.#holes.set(relayId, holes);
    }
    return holes;
  }
}
