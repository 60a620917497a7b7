import {
  type CounterPoint,
  type GaugePoint,
  type GaugeSnapshot,
  type HistogramPoint,
  OTHER_USER,
  type ShardState,
  seriesKey,
  sortedLabels,
} from "../wire";

/**
 * Every series, merged across shards, as one scrape or one remote-write push exposes it. Each list is sorted by
 * series key (name, then labels), which is the order the exposition renders them in.
 */
export interface MergedMetrics {
  counters: CounterPoint[];
  histograms: HistogramPoint[];
  gauges: GaugePoint[];
  /** Epoch ms since which every shard has counted: the start time of the cumulative series. */
  countingSince: number;
}

/** Gauges reported as 0 when no live object reports them, so dashboards and alerts always find them. */
const ALWAYS_PRESENT_GAUGES: GaugePoint[] = [
  { name: "edge_relay_connections", labels: {}, value: 0 },
  { name: "consumer_connections", labels: {}, value: 0 },
  { name: "active_sessions", labels: {}, value: 0 },
  { name: "pending_writes", labels: { table: "samples" }, value: 0 },
  { name: "pending_writes", labels: { table: "sessions" }, value: 0 },
];

/**
 * Merges the shards' states: counters add up (a user's own series lives in one shard; `_other` and the HTTP
 * series may exist in several, and a sum of monotonic series is monotonic), histograms add bucket by bucket,
 * gauges add up over the live snapshots. For per-user gauges only the `userLabelLimit` users with the fullest
 * buffers keep their user_id; the rest are summed under user_id="_other".
 */
export function mergeShardStates(states: ShardState[], userLabelLimit: number): MergedMetrics {
  const counters = new Map<string, CounterPoint>();
  const histograms = new Map<string, HistogramPoint>();
  for (const state of states) {
    for (const c of state.counters) {
      const key = seriesKey(c.name, c.labels);
      const seen = counters.get(key);
      if (seen) seen.value += c.value;
      else counters.set(key, { ...c });
    }
    for (const h of state.histograms) {
      const key = seriesKey(h.name, h.labels);
      const seen = histograms.get(key);
      if (!seen) {
        histograms.set(key, { ...h, counts: [...h.counts] });
      } else if (seen.counts.length === h.counts.length) {
        h.counts.forEach((c, i) => {
          seen.counts[i] = (seen.counts[i] ?? 0) + c;
        });
        seen.sum += h.sum;
        seen.count += h.count;
      } else {
        console.error(`metrics merge: ${h.name} has other boundaries in another shard; left out`);
      }
    }
  }
  return {
    counters: sortedByKey(counters),
    histograms: sortedByKey(histograms),
    gauges: mergeGauges(
      states.flatMap((s) => s.gauges),
      userLabelLimit,
    ),
    // A shard whose storage was lost restarts at zero: from then on the sums count anew.
    countingSince: Math.max(0, ...states.map((s) => s.countingSince ?? 0)),
  };
}

function mergeGauges(snapshots: GaugeSnapshot[], userLabelLimit: number): GaugePoint[] {
  const named = new Set(
    snapshots
      .filter((s) => s.userId !== undefined)
      // Fullest first; the user id breaks ties, so equal users do not swap labels between scrapes.
      .sort((a, b) => (b.fill ?? 0) - (a.fill ?? 0) || ((a.userId as string) < (b.userId as string) ? -1 : 1))
      .slice(0, userLabelLimit)
      .map((s) => s.userId),
  );
  const gauges = new Map<string, GaugePoint>();
  const add = (p: GaugePoint) => {
    const labels =
      p.labels.user_id !== undefined && !named.has(p.labels.user_id)
        ? { ...p.labels, user_id: OTHER_USER }
        : p.labels;
    const key = seriesKey(p.name, labels);
    const seen = gauges.get(key);
    if (seen) seen.value += p.value;
    else gauges.set(key, { name: p.name, labels: sortedLabels(labels), value: p.value });
  };
  for (const p of ALWAYS_PRESENT_GAUGES) add(p);
  for (const s of snapshots) for (const p of s.points) add(p);
  return sortedByKey(gauges);
}

/** The values of a map keyed by seriesKey, in key order (the keys are computed once, while merging). */
function sortedByKey<T>(byKey: Map<string, T>): T[] {
  return [...byKey.keys()].sort().map((key) => byKey.get(key) as T);
}

/** Leaves out the HTTP metrics (for /metrics-custom). */
export function withoutHttp(m: MergedMetrics): MergedMetrics {
  const app = (p: { name: string }) => !p.name.startsWith("http_");
  return {
    counters: m.counters.filter(app),
    histograms: m.histograms.filter(app),
    gauges: m.gauges.filter(app),
    countingSince: m.countingSince,
  };
}
