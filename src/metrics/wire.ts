/**
 * The contract between the metrics stages: what senders (record/, ship/) deliver to a MetricsShard (aggregate/),
 * what a shard answers for a scrape or a push (expose/), and the constants both sides rely on.
 * Plain data: it crosses Durable Object RPC (structured clone) and is persisted as JSON in outboxes.
 */

/** The user_id value that sums every user without a label slot of their own (README, "Metrics"). */
export const OTHER_USER = "_other";

/**
 * How often a sender that still has live state re-sends its unchanged gauge snapshot; the aggregator expires a
 * snapshot not refreshed for several periods (aggregate/shard-store.ts, GAUGE_TTL_MS).
 */
export const GAUGE_REFRESH_MS = 60_000;

export type Labels = Record<string, string>;

/** A counter increase since the sender's previous batch (DELTA temporality). */
export interface CounterPoint {
  name: string;
  labels: Labels;
  value: number;
}

/** Histogram bucket counts since the previous batch; `counts` has `boundaries.length + 1` entries (last is +Inf). */
export interface HistogramPoint {
  name: string;
  labels: Labels;
  boundaries: number[];
  counts: number[];
  sum: number;
  count: number;
}

/** An absolute gauge value (a snapshot, not a delta). */
export interface GaugePoint {
  name: string;
  labels: Labels;
  value: number;
}

/**
 * The latest absolute state of one live thing (a user object, a Worker isolate). The aggregator keeps the newest
 * snapshot per `owner` and sums them at scrape time.
 */
export interface GaugeSnapshot {
  owner: string;
  /** The user the snapshot belongs to: its per-user series are ranked by `fill` for the user_id label limit. */
  userId?: string;
  /** buffer_size / buffer_capacity, for the ranking. */
  fill?: number;
  at: number;
  points: GaugePoint[];
}

/** One delivery unit. (sender, seq) identifies it: a shard applies each seq of a sender at most once. */
export interface DeltaBatch {
  sender: string;
  seq: number;
  createdAt: number;
  counters: CounterPoint[];
  histograms: HistogramPoint[];
  gauges?: GaugeSnapshot;
}

/** What a batch carries, without who sent it: what the outbox keeps and merges. */
export type BatchBody = Pick<DeltaBatch, "counters" | "histograms" | "gauges">;

export interface ApplyResult {
  applied: boolean;
  duplicate: boolean;
  /** Why parts of the batch were refused (logged and counted in metrics_refused_total), if any. */
  refused: string[];
}

/** A shard's persisted state, as it answers a scrape. */
export interface ShardState {
  counters: CounterPoint[];
  histograms: HistogramPoint[];
  gauges: GaugeSnapshot[];
  /** Epoch ms since which the shard has counted without losing state (its storage's creation). */
  countingSince: number;
}

/** A stable identity for a series: name plus labels sorted by key. */
export function seriesKey(name: string, labels: Labels): string {
  const keys = Object.keys(labels).sort();
  let key = name;
  for (const k of keys) key += `\u0000${k}=${labels[k]}`;
  return key;
}

export function sortedLabels(labels: Labels): Labels {
  const out: Labels = {};
  for (const k of Object.keys(labels).sort()) out[k] = labels[k] as string;
  return out;
}

/** The shard that owns a user's per-user state: FNV-1a of the user id modulo the shard count. */
export function shardForUser(userId: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < userId.length; i++) {
    hash ^= userId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % shards;
}
