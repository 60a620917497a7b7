/**
 * The acked seqs of each relay of the user, with each one's content print (docs/protocol.md, "Acks and
 * duplicates": an ack means stored exactly once). A seq acked with the same print is a duplicate (acked again,
 * not stored); acked with another print it is a reused seq, refused; a seq above the relay's floor and never
 * acked is stored, in any order; a seq at or below the floor fell out of the window and is refused.
 *
 * Two places hold them, so that a committed frame costs no row beyond its buffer row:
 * - frames still in the buffer: their buffer row is the durable record; here only an in-memory index of it;
 * - frames flushed to D1: moved into `acked_ranges` (seq ranges) and `acked_prints` (one row of packed
 *   (seq, print) pairs per relay and flush) in the transaction that deletes their buffer rows.
 */

/** The window kept per relay: at least this long and at least this many seqs (both). */
export const WINDOW_MS = 10 * 60_000;
export const WINDOW_SEQS = 10_000;

export type SeqStatus = "new" | "acked" | "forgotten";

/** A frame the buffer holds or just released: its relay, seq and content print (null: stored before prints). */
export interface AckedFrame {
  relayId: string;
  seq: number;
  print: number | null;
}

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
  /** Frames in the buffer, per relay: seq → print. */
  readonly #buffered = new Map<string, Map<number, number | null>>();
  /** Rows changed in memory since the last persist(): relay id → range keys (lo) to rewrite or delete. */
  readonly #dirty = new Map<string, Set<number>>();
  readonly #dirtyFloors = new Set<string>();

  /** Creates the tables, and moves 0.2's high marks and holes into ranges. */
  static prepare(sql: SqlStorage, fresh = false): void {
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
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS acked_prints (
      relay_id TEXT    NOT NULL,
      lo       INTEGER NOT NULL,
      hi       INTEGER NOT NULL,
      -- float64 pairs (seq, print), little-endian: one row per relay and flush, not one per frame.
      pairs    BLOB    NOT NULL,
      PRIMARY KEY (relay_id, lo, hi)
    ) WITHOUT ROWID`);
    if (!fresh) migrateHighMarks(sql);
  }

  constructor(
    private readonly sql: SqlStorage,
    buffered: Iterable<AckedFrame>,
  ) {
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
    for (const frame of buffered) this.committed(frame);
  }

  /** Whether `seq` of the relay was acked, was never acked, or is too old to tell. */
  status(relayId: string, seq: number): SeqStatus {
    if (this.#buffered.get(relayId)?.has(seq)) return "acked";
    const window = this.#relays.get(relayId);
    if (!window) return "new";
    if (findRange(window.ranges, seq) >= 0) return "acked";
    return seq <= window.floor ? "forgotten" : "new";
  }

  /** The content print an acked seq was stored with; null when unknown (stored before prints existed). */
  printOf(relayId: string, seq: number): number | null {
    const buffered = this.#buffered.get(relayId);
    if (buffered?.has(seq)) return buffered.get(seq) ?? null;
    for (const row of this.sql.exec<{ pairs: ArrayBuffer }>(
      "SELECT pairs FROM acked_prints WHERE relay_id = ? AND lo <= ? AND hi >= ?",
      relayId,
      seq,
      seq,
    )) {
      const pairs = new Float64Array(row.pairs);
      for (let i = 0; i < pairs.length; i += 2) {
        const print = pairs[i + 1] as number;
        if (pairs[i] === seq) return Number.isNaN(print) ? null : print;
      }
    }
    return null;
  }

  knows(relayId: string): boolean {
    return this.#relays.has(relayId) || this.#buffered.has(relayId);
  }

  /** Seqs at or below this one have left the relay's window (0: none has). */
  floor(relayId: string): number {
    return this.#relays.get(relayId)?.floor ?? 0;
  }

  /** A frame committed to the buffer (its buffer row is the durable record: nothing is written here). */
  committed({ relayId, seq, print }: AckedFrame): void {
    let seqs = this.#buffered.get(relayId);
    if (!seqs) {
      seqs = new Map();
      this.#buffered.set(relayId, seqs);
    }
    seqs.set(seq, print);
  }

  /**
   * Frames whose buffer rows a flush deletes, in the same transaction: their seqs join the relay's ranges and
   * their prints one packed row per relay, then the window is pruned.
   */
  released(frames: readonly AckedFrame[], now: number): void {
    const byRelay = new Map<string, AckedFrame[]>();
    for (const frame of frames) {
      this.#buffered.get(frame.relayId)?.delete(frame.seq);
      if (this.#buffered.get(frame.relayId)?.size === 0) this.#buffered.delete(frame.relayId);
      const list = byRelay.get(frame.relayId);
      if (list) list.push(frame);
      else byRelay.set(frame.relayId, [frame]);
    }
    for (const [relayId, list] of byRelay) {
      const pairs = new Float64Array(list.length * 2);
      let lo = Number.POSITIVE_INFINITY;
      let hi = 0;
      list.forEach((frame, i) => {
        this.#add(relayId, frame.seq, now);
        pairs[2 * i] = frame.seq;
        pairs[2 * i + 1] = frame.print ?? Number.NaN;
        lo = Math.min(lo, frame.seq);
        hi = Math.max(hi, frame.seq);
      });
      this.sql.exec(
        "INSERT OR REPLACE INTO acked_prints (relay_id, lo, hi, pairs) VALUES (?, ?, ?, ?)",
        relayId,
        lo,
        hi,
        pairs.buffer,
      );
    }
    this.#persist();
  }

  /** Forgets every relay (the user's data was erased). */
  clear(): void {
    this.sql.exec("DELETE FROM acked_ranges; DELETE FROM relay_floors; DELETE FROM acked_prints");
    this.#relays.clear();
    this.#buffered.clear();
    this.#dirty.clear();
    this.#dirtyFloors.clear();
  }

  #add(relayId: string, seq: number, now: number): void {
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

  /** Writes the ranges and floors changed since the last call, and drops the prints below a risen floor. */
  #persist(): void {
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
      const floor = this.floor(relayId);
      this.sql.exec("INSERT OR REPLACE INTO relay_floors (relay_id, floor) VALUES (?, ?)", relayId, floor);
      this.sql.exec("DELETE FROM acked_prints WHERE relay_id = ? AND hi <= ?", relayId, floor);
    }
    this.#dirty.clear();
    this.#dirtyFloors.clear();
  }

  /**
   * Drops the lowest seqs while the relay keeps more than WINDOW_SEQS AND they are older than WINDOW_MS: never
   * one of the last 10,000 nor one of the last 10 minutes, whatever the pattern. Lowest first: a relay that
   * restarted its numbering finds its new low seqs taken by the old ones and is told so (reused seq).
   */
  #prune(relayId: string, window: RelayWindow, now: number): void {
    const { ranges } = window;
    while (ranges.length > 0) {
      const lowest = ranges[0] as Range;
      const size = lowest.hi - lowest.lo + 1;
      const excess = window.count - WINDOW_SEQS;
      if (excess <= 0 || now - lowest.at < WINDOW_MS) return;
      if (size <= excess) {
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
}

/**
 * Objects written by 0.1 kept a high mark per relay plus the seqs refused below it ("holes"). Every seq up to
 * the mark that is not a hole was acked: that is exactly the ranges 1..high split at the holes.
 */
function migrateHighMarks(sql: SqlStorage): void {
  const old = sql
    .exec<{ n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'relays'")
    .one();
  if (old.n === 0) return;
  const holes = new Map<string, number[]>();
  const hasHoles =
    sql
      .exec<{ n: number }>(
        "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'relay_holes'",
      )
      .one().n > 0;
  if (hasHoles) {
    for (const row of sql.exec<{ relay_id: string; seq: number }>(
      "SELECT relay_id, seq FROM relay_holes ORDER BY relay_id, seq",
    )) {
      holes.set(row.relay_id, [...(holes.get(row.relay_id) ?? []), row.seq]);
    }
  }
  for (const row of sql.exec<{ relay_id: string; high_seq: number; last_seen: number }>(
    "SELECT relay_id, high_seq, last_seen FROM relays",
  )) {
    let lo = 1;
    for (const hole of [...(holes.get(row.relay_id) ?? []), row.high_seq + 1]) {
      if (hole > lo) {
        sql.exec(
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
  sql.exec("DROP TABLE relays; DROP TABLE IF EXISTS relay_holes");
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
