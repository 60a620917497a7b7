import type { BatchBody, CounterPoint, HistogramPoint } from "../wire";

const key = (p: { name: string; labels: Record<string, string> }) =>
  `${p.name}\u0000${JSON.stringify(Object.entries(p.labels).sort())}`;

/**
 * One batch body holding both: deltas add up (counters by series, histograms bucket by bucket), and the newer
 * gauge snapshot replaces the older. What a shard applies of the result equals applying both.
 */
export function mergeBodies(older: BatchBody, newer: BatchBody): BatchBody {
  const counters = new Map<string, CounterPoint>(older.counters.map((c) => [key(c), { ...c }]));
  for (const c of newer.counters) {
    const have = counters.get(key(c));
    if (have) have.value += c.value;
    else counters.set(key(c), { ...c });
  }
  const histograms = new Map<string, HistogramPoint>(
    older.histograms.map((h) => [key(h), { ...h, counts: [...h.counts] }]),
  );
  const unmergeable: HistogramPoint[] = [];
  for (const h of newer.histograms) {
    const have = histograms.get(key(h));
    if (!have) histograms.set(key(h), { ...h, counts: [...h.counts] });
    else if (have.boundaries.join() !== h.boundaries.join()) unmergeable.push(h);
    else {
      h.counts.forEach((n, i) => {
        have.counts[i] = (have.counts[i] ?? 0) + n;
      });
      have.sum += h.sum;
      have.count += h.count;
    }
  }
  return {
    counters: [...counters.values()],
    histograms: [...histograms.values(), ...unmergeable],
    gauges: newer.gauges ?? older.gauges,
  };
}
