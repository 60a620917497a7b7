import { METRICS } from "../catalogue";
import {
  type ApplyResult,
  type CounterPoint,
  type DeltaBatch,
  GAUGE_REFRESH_MS,
  type GaugeSnapshot,
  type HistogramPoint,
  type Labels,
  OTHER_USER,
  type ShardState,
  seriesKey,
  sortedLabels,
} from "../wire";

/** How long a shard remembers a sender's highest applied seq; older batches are refused as possibly applied. */
export const SENDER_TTL_MS = 7 * 24 * 3_600_000;
/** A gauge snapshot not refreshed for this long belongs to an object that vanished (deploy, crash): dropped. */
export const GAUGE_TTL_MS = 5 * GAUGE_REFRESH_MS;
/** A user whose counters saw no delta for this long gives its label slot back; its series fold into _other. */
export const USER_LABEL_IDLE_MS = 24 * 3_600_000;
/** last_seen of a labelled user is rewritten at most this often (one write per user per period, not per batch). */
const LAST_SEEN_RESOLUTION_MS = 60_000;

/** This shard's share of METRICS_USER_LABEL_LIMIT: the shares of all shards add up to the limit. */
export function rosterLimit(limit: number, shards: number, index: number): number {
  return Math.floor(limit / shards) + (index < limit % shards ? 1 : 0);
}

/**
 * The persisted, cumulative metric state of one MetricsShard (its SQLite storage). Owns storage only; the
 * Durable Object around it speaks RPC.
 *
 * - counters and histograms: cumulative sums of every delta applied, one row per series (no value grows with
 *   the number of series, so nothing needs chunking: the largest row is one histogram's bucket counts);
 * - senders: the highest applied seq per sender, so a retried batch is applied once (ship/outbox.ts);
 * - gauges: the latest snapshot per owner (user object, isolate), expiring after GAUGE_TTL_MS;
 * - user_labels: the users whose counters carry their own user_id label. Membership is sticky: a user gets a
 *   slot when first seen while slots are free and keeps it until idle for USER_LABEL_IDLE_MS; deltas of users
 *   without a slot add to user_id="_other". So _other only ever grows (an idle user's totals fold into it) and
 *   every counter stays monotonic. State is bounded by the slots plus the label enums of the README's "Metrics".
 */
export class ShardStore {
  private readonly storage: DurableObjectStorage;
  private readonly sql: SqlStorage;
  private readonly roster = new Map<string, number>();
  private readonly lastSeq = new Map<string, number>();
  private readonly countingSince: number;

  constructor(storage: DurableObjectStorage) {
    this.storage = storage;
    this.sql = storage.sql;
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, name TEXT NOT NULL, labels TEXT NOT NULL,
        user_id TEXT, value REAL NOT NULL);
      CREATE INDEX IF NOT EXISTS counters_user ON counters (user_id);
      CREATE TABLE IF NOT EXISTS histograms (key TEXT PRIMARY KEY, name TEXT NOT NULL, labels TEXT NOT NULL,
        counts TEXT NOT NULL, sum REAL NOT NULL, count REAL NOT NULL);
      CREATE TABLE IF NOT EXISTS gauges (owner TEXT PRIMARY KEY, user_id TEXT, fill REAL, points TEXT NOT NULL,
        at INTEGER NOT NULL, expires_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS senders (sender TEXT PRIMARY KEY, last_seq INTEGER NOT NULL,
        expires_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS user_labels (user_id TEXT PRIMARY KEY, last_seen INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS shard_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
    `);
    // The first construction on empty storage fixes when counting began (the OTLP start time).
    this.sql.exec("INSERT OR IGNORE INTO shard_meta (key, value) VALUES ('counting_since', ?)", Date.now());
    this.countingSince = this.sql
      .exec<{ value: number }>("SELECT value FROM shard_meta WHERE key = 'counting_since'")
      .one().value;
    for (const r of this.sql.exec<{ user_id: string; last_seen: number }>("SELECT * FROM user_labels")) {
      this.roster.set(r.user_id, r.last_seen);
    }
  }

  /** Applies a batch once, atomically. `slots` is this shard's share of METRICS_USER_LABEL_LIMIT. */
  apply(batch: DeltaBatch, slots: number, now = Date.now()): ApplyResult {
    // A batch older than the sender memory may have been applied before its sender was forgotten: applying it
    // could count it twice. (An hour of margin for clocks that differ between machines.)
    if (batch.createdAt < now - SENDER_TTL_MS + 3_600_000) {
      this.refuse("stale_batch");
      return { applied: false, duplicate: false, refused: ["stale_batch"] };
    }
    if (batch.seq <= this.senderSeq(batch.sender)) return { applied: false, duplicate: true, refused: [] };
    const refused: string[] = [];
    this.storage.transactionSync(() => {
      this.sql.exec(
        "INSERT OR REPLACE INTO senders (sender, last_seq, expires_at) VALUES (?, ?, ?)",
        batch.sender,
        batch.seq,
        now + SENDER_TTL_MS,
      );
      for (const c of batch.counters) {
        if (!Number.isFinite(c.value) || c.value < 0) refused.push(`invalid_counter_value:${c.name}`);
        else this.addCounter(c.name, this.labelUser(c.labels, slots, now), c.value);
      }
      for (const h of batch.histograms) {
        const reason = this.addHistogram(h);
        if (reason) refused.push(reason);
      }
      if (batch.gauges) this.putGauges(batch.gauges, now);
    });
    this.lastSeq.set(batch.sender, batch.seq);
    for (const reason of refused) {
      console.error(`metrics batch ${batch.sender}/${batch.seq}: refused ${reason}`);
      this.refuse(reason.split(":")[0] as string);
    }
    return { applied: true, duplicate: false, refused };
  }

  /** Adds to a cumulative counter (also used for the pipeline's own counters). */
  addCounter(name: string, labels: Labels, value: number): void {
    const sorted = sortedLabels(labels);
    this.sql.exec(
      `INSERT INTO counters (key, name, labels, user_id, value) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET value = value + excluded.value`,
      seriesKey(name, sorted),
      name,
      JSON.stringify(sorted),
      sorted.user_id ?? null,
      value,
    );
  }

  /** The state a scrape merges: every cumulative series and the unexpired gauge snapshots. */
  state(now = Date.now()): ShardState {
    const counters: CounterPoint[] = [];
    for (const r of this.sql.exec<{ name: string; labels: string; value: number }>(
      "SELECT name, labels, value FROM counters",
    )) {
      counters.push({ name: r.name, labels: JSON.parse(r.labels), value: r.value });
    }
    const histograms: HistogramPoint[] = [];
    for (const r of this.sql.exec<{
      name: string;
      labels: string;
      counts: string;
      sum: number;
      count: number;
    }>("SELECT name, labels, counts, sum, count FROM histograms")) {
      const boundaries = [...(METRICS[r.name]?.boundaries ?? [])];
      histograms.push({
        name: r.name,
        labels: JSON.parse(r.labels),
        boundaries,
        counts: JSON.parse(r.counts),
        sum: r.sum,
        count: r.count,
      });
    }
    const gauges: GaugeSnapshot[] = [];
    for (const r of this.sql.exec<{
      owner: string;
      user_id: string | null;
      fill: number | null;
      points: string;
      at: number;
    }>("SELECT owner, user_id, fill, points, at FROM gauges WHERE expires_at > ?", now)) {
      gauges.push({
        owner: r.owner,
        ...(r.user_id === null ? {} : { userId: r.user_id }),
        ...(r.fill === null ? {} : { fill: r.fill }),
        at: r.at,
        points: JSON.parse(r.points),
      });
    }
    return { counters, histograms, gauges, countingSince: this.countingSince };
  }

  /** Drops expired gauges and senders, and folds users idle for USER_LABEL_IDLE_MS into _other. */
  housekeeping(now = Date.now()): { expiredGauges: number; foldedUsers: number } {
    let expiredGauges = 0;
    let foldedUsers = 0;
    this.storage.transactionSync(() => {
      expiredGauges = this.sql.exec("DELETE FROM gauges WHERE expires_at <= ?", now).rowsWritten;
      const expired = this.sql
        .exec<{ sender: string }>("DELETE FROM senders WHERE expires_at <= ? RETURNING sender", now)
        .toArray();
      for (const r of expired) this.lastSeq.delete(r.sender);
      for (const [userId, lastSeen] of this.roster) {
        if (lastSeen > now - USER_LABEL_IDLE_MS) continue;
        this.foldUser(userId);
        foldedUsers++;
      }
    });
    return { expiredGauges, foldedUsers };
  }

  private senderSeq(sender: string): number {
    let seq = this.lastSeq.get(sender);
    if (seq === undefined) {
      seq =
        this.sql
          .exec<{ last_seq: number }>("SELECT last_seq FROM senders WHERE sender = ?", sender)
          .toArray()[0]?.last_seq ?? 0;
      this.lastSeq.set(sender, seq);
    }
    return seq;
  }

  /** The labels with user_id kept when the user holds (or can take) a slot, else replaced by _other. */
  private labelUser(labels: Labels, slots: number, now: number): Labels {
    const userId = labels.user_id;
    if (userId === undefined || userId === OTHER_USER) return labels;
    const lastSeen = this.roster.get(userId);
    if (lastSeen === undefined && this.roster.size >= slots) return { ...labels, user_id: OTHER_USER };
    if (lastSeen === undefined || now - lastSeen >= LAST_SEEN_RESOLUTION_MS) {
      this.roster.set(userId, now);
      this.sql.exec("INSERT OR REPLACE INTO user_labels (user_id, last_seen) VALUES (?, ?)", userId, now);
    }
    return labels;
  }

  private foldUser(userId: string): void {
    const rows = this.sql
      .exec<{ name: string; labels: string; value: number }>(
        "DELETE FROM counters WHERE user_id = ? RETURNING name, labels, value",
        userId,
      )
      .toArray();
    for (const r of rows) this.addCounter(r.name, { ...JSON.parse(r.labels), user_id: OTHER_USER }, r.value);
    this.sql.exec("DELETE FROM user_labels WHERE user_id = ?", userId);
    this.roster.delete(userId);
  }

  /** Merges a histogram delta bucket by bucket; answers the refusal reason when its boundaries are not ours. */
  private addHistogram(h: HistogramPoint): string | null {
    const expected = METRICS[h.name]?.boundaries;
    if (!expected || !sameBoundaries(expected, h.boundaries) || h.counts.length !== expected.length + 1) {
      return `histogram_boundaries:${h.name}`;
    }
    const labels = sortedLabels(h.labels);
    const key = seriesKey(h.name, labels);
    const row = this.sql
      .exec<{ counts: string; sum: number; count: number }>(
        "SELECT counts, sum, count FROM histograms WHERE key = ?",
        key,
      )
      .toArray()[0];
    const counts = row
      ? (JSON.parse(row.counts) as number[]).map((c, i) => c + (h.counts[i] ?? 0))
      : h.counts;
    this.sql.exec(
      "INSERT OR REPLACE INTO histograms (key, name, labels, counts, sum, count) VALUES (?, ?, ?, ?, ?, ?)",
      key,
      h.name,
      JSON.stringify(labels),
      JSON.stringify(counts),
      (row?.sum ?? 0) + h.sum,
      (row?.count ?? 0) + h.count,
    );
    return null;
  }

  private putGauges(g: GaugeSnapshot, now: number): void {
    const current = this.sql
      .exec<{ at: number }>("SELECT at FROM gauges WHERE owner = ?", g.owner)
      .toArray()[0];
    if (current && current.at > g.at) return;
    if (g.points.length === 0 || g.points.every((p) => p.value === 0)) {
      this.sql.exec("DELETE FROM gauges WHERE owner = ?", g.owner);
      return;
    }
    this.sql.exec(
      "INSERT OR REPLACE INTO gauges (owner, user_id, fill, points, at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
      g.owner,
      g.userId ?? null,
      g.fill ?? null,
      JSON.stringify(g.points),
      g.at,
      now + GAUGE_TTL_MS,
    );
  }

  private refuse(reason: string): void {
    this.addCounter("metrics_refused", { reason }, 1);
  }
}

function sameBoundaries(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
