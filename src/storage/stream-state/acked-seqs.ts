/**
 * The acked seqs of each relay of the user (SPEC §3: an ack means stored exactly once), kept as ranges in the
 * object's SQLite storage and in memory. A seq inside a range is a duplicate (acked again, not stored); a seq
 * above the relay's floor and outside every range was never acked and is stored, in any order; a seq at or
 * below the floor fell out of the window and is refused. docs/protocol.md, "Acks and duplicates".
 */

/** The window kept per relay: at least this long and at least this many seqs (both, SPEC §3). */
export const WINDOW_MS = 10 * 60_000;
export const WINDOW_SEQS = 10_000;
/** Ranges kept per relay whatever their age: bounds the memory of a relay that acks only scattered seqs. */
export const MAX_RANGES_PER_RELAY = 20_000;

export type SeqStatus = "new" | "acked" | "forgotten";

/** seqs lo..hi (inclusive) acked, the last of them at `at` (epoch ms). */
interface Range {
  lo: number;
  hi: number;
  at: number;
}

interface RelayWindow {
  /** Every seq at or below it has left the window. */
  floor: number;
  /** Disjoint, not adjacent, sorted by lo, all above floor. */
  ranges: Range[];
  /** Seqs in the ranges. */
  count: number;
}

export class AckedSeqs {
  readonly #relays = new Map<string, RelayWindow>();
  /** Rows changed in memory since the last persist(): relay id → range keys (lo) to rewrite or delete. */
  readonly #dirty = new Map<string, Set<number>>();
  readonly #dirtyFloors = new Set<string>();

  constructor(private readonly sql: SqlStorage) {
    sql.exec(`CREATE TABLE IF NOT EXISTS acked_ranges (
      relay_id TEXT    NOT NULL,
      lo       INTEGER NOT NULL,
      hi       INTEGER NOT NULL,
      acked_at INTEGER NOT NULL,
      PRIMARY KEY (relay_id, lo)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS relay_floors (
      relay_id TEXT    PRIMARY KEY,
      floor    INTEGER NOT NULL
    ) WITHOUT ROWID`);
    this.#migrateHighMarks();
    for (const row of sql.exec<{ relay_id: string; floor: number }>(
      "SELECT relay_id, floor FROM relay_floors",
    )) {
      this.#windowOf(row.relay_id).floor = row.floor;
    }
    for (const row of sql.exec<{ relay_id: string; lo: number; hi: number; acked_at: number }>(
      "SELECT relay_id, lo, hi, acked_at FROM acked_ranges ORDER BY relay_id, lo",
    )) {
      const window = this.#windowOf(row.relay_id);
      window.ranges.push({ lo: row.lo, hi: row.hi, at: row.acked_at });
      window.count += row.hi - row.lo + 1;
    }
  }

  /** Whether `seq` of the relay was acked, was never acked, or is too old to tell. */
  status(relayId: string, seq: number): SeqStatus {
    const window = this.#relays.get(relayId);
    if (!window) return "new";
    if (findRange(window.ranges, seq) >= 0) return "acked";
    return seq <= window.floor ? "forgotten" : "new";
  }

  knows(relayId: string): boolean {
    return this.#relays.has(relayId);
  }

  /** Seqs at or below this one have left the relay's window (0: none has). */
  floor(relayId: string): number {
    return this.#relays.get(relayId)?.floor ?? 0;
  }

  /** Records acked seqs (in the transaction that stores their frames); call persist() before it commits. */
  add(relayId: string, seq: number, now: number): void {
    const window = this.#windowOf(relayId);
    const { ranges } = window;
    // Index of the first range with lo > seq; the one before it (if any) is the only one that can hold seq.
    const i = upperBound(ranges, seq);
    const before = ranges[i - 1];
    if (before && before.hi >= seq) return;
    const after = ranges[i];
    const joinsBefore = before !== undefined && before.hi === seq - 1;
    const joinsAfter = after !== undefined && after.lo === seq + 1;
    if (joinsBefore && joinsAfter) {
      before.hi = after.hi;
      before.at = Math.max(now, after.at);
      ranges.splice(i, 1);
      this.#touch(relayId, before.lo, after.lo);
    } else if (joinsBefore) {
      before.hi = seq;
      before.at = now;
      this.#touch(relayId, before.lo);
    } else if (joinsAfter) {
      this.#touch(relayId, after.lo, seq);
      after.lo = seq;
      after.at = Math.max(now, after.at);
    } else {
      ranges.splice(i, 0, { lo: seq, hi: seq, at: now });
      this.#touch(relayId, seq);
    }
    window.count++;
    this.#prune(relayId, window, now);
  }

  /** Writes the ranges changed since the last call. */
  persist(): void {
    for (const [relayId, keys] of this.#dirty) {
      const ranges = this.#relays.get(relayId)?.ranges ?? [];
      for (const lo of keys) {
        const index = findRange(ranges, lo);
        const range = index >= 0 ? ranges[index] : undefined;
        if (range && range.lo === lo) {
          this.sql.exec(
            "INSERT OR REPLACE INTO acked_ranges (relay_id, lo, hi, acked_at) VALUES (?, ?, ?, ?)",
            relayId,
            lo,
            range.hi,
            range.at,
          );
        } else {
          this.sql.exec("DELETE FROM acked_ranges WHERE relay_id = ? AND lo = ?", relayId, lo);
        }
      }
    }
    for (const relayId of this.#dirtyFloors) {
      this.sql.exec(
        "INSERT OR REPLACE INTO relay_floors (relay_id, floor) VALUES (?, ?)",
        relayId,
        this.floor(relayId),
      );
    }
    this.#dirty.clear();
    this.#dirtyFloors.clear();
  }

  /**
   * Drops the lowest seqs while the relay keeps more than WINDOW_SEQS and they are older than WINDOW_MS, or while
   * it has more than MAX_RANGES_PER_RELAY ranges. Lowest first: a relay that restarted its numbering keeps its
   * old high seqs as duplicates and its new low ones stay above the floor.
   */
  #prune(relayId: string, window: RelayWindow, now: number): void {
    const { ranges } = window;
    while (ranges.length > 0) {
      const lowest = ranges[0] as Range;
      const size = lowest.hi - lowest.lo + 1;
      const excess = window.count - WINDOW_SEQS;
      const tooMany = ranges.length > MAX_RANGES_PER_RELAY;
      if (!tooMany && (excess <= 0 || now - lowest.at < WINDOW_MS)) return;
      if (tooMany || size <= excess) {
        ranges.shift();
        window.count -= size;
        window.floor = Math.max(window.floor, lowest.hi);
        this.#touch(relayId, lowest.lo);
      } else {
        this.#touch(relayId, lowest.lo, lowest.lo + excess);
        lowest.lo += excess;
        window.count -= excess;
        window.floor = Math.max(window.floor, lowest.lo - 1);
      }
      this.#dirtyFloors.add(relayId);
    }
  }

  #touch(relayId: string, ...keys: number[]): void {
    let set = this.#dirty.get(relayId);
    if (!set) {
      set = new Set();
      this.#dirty.set(relayId, set);
    }
    for (const key of keys) set.add(key);
  }

  #windowOf(relayId: string): RelayWindow {
    let window = this.#relays.get(relayId);
    if (!window) {
      window = { floor: 0, ranges: [], count: 0 };
      this.#relays.set(relayId, window);
    }
    return window;
  }

  /**
   * Objects written by 0.1 kept a high mark per relay plus the seqs refused below it ("holes"). Every seq up to
   * the mark that is not a hole was acked: that is exactly the ranges 1..high split at the holes.
   */
  #migrateHighMarks(): void {
    const old = this.sql
      .exec<{ n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'relays'")
      .one();
    if (old.n === 0) return;
    const holes = new Map<string, number[]>();
    const hasHoles =
      this.sql
        .exec<{ n: number }>(
          "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'relay_holes'",
        )
        .one().n > 0;
    if (hasHoles) {
      for (const row of this.sql.exec<{ relay_id: string; seq: number }>(
        "SELECT relay_id, seq FROM relay_holes ORDER BY relay_id, seq",
      )) {
        holes.set(row.relay_id, [...(holes.get(row.relay_id) ?? []), row.seq]);
      }
    }
    for (const row of this.sql.exec<{ relay_id: string; high_seq: number; last_seen: number }>(
      "SELECT relay_id, high_seq, last_seen FROM relays",
    )) {
      let lo = 1;
      for (const hole of [...(holes.get(row.relay_id) ?? []), row.high_seq + 1]) {
        if (hole > lo) {
          this.sql.exec(
            "INSERT OR REPLACE INTO acked_ranges (relay_id, lo, hi, acked_at) VALUES (?, ?, ?, ?)",
            row.relay_id,
            lo,
            Math.min(hole - 1, row.high_seq),
            row.last_seen,
          );
        }
        lo = Math.max(lo, hole + 1);
      }
    }
    this.sql.exec("DROP TABLE relays; DROP TABLE IF EXISTS relay_holes");
  }
}

/** Index of the range holding `seq`, or -1. */
function findRange(ranges: Range[], seq: number): number {
  const i = upperBound(ranges, seq) - 1;
  const range = ranges[i];
  return range && range.hi >= seq ? i : -1;
}

/** Index of the first range with lo > seq. */
function upperBound(ranges: Range[], seq: number): number {
  let low = 0;
  let high = ranges.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((ranges[mid] as Range).lo <= seq) low = mid + 1;
    else high = mid;
  }
  return low;
}
