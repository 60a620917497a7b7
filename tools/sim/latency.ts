/** Latency percentiles in milliseconds. */
export interface Percentiles {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentile of an ascending array (p in 0..100); NaN for an empty array. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

/**
 * Collects latencies. Past `capacity` values it keeps a uniform random sample (reservoir sampling), so a
 * long run has bounded memory and unbiased percentiles.
 */
export class LatencyRecorder {
  private readonly values: Float64Array;
  private stored = 0;
  private seen = 0;

  constructor(capacity = 1_000_000) {
    this.values = new Float64Array(capacity);
  }

  record(ms: number): void {
    this.seen++;
    if (this.stored < this.values.length) {
      this.values[this.stored++] = ms;
      return;
    }
    const slot = Math.floor(Math.random() * this.seen);
    if (slot < this.values.length) this.values[slot] = ms;
  }

  get count(): number {
    return this.seen;
  }

  percentiles(): Percentiles {
    const sorted = this.values.slice(0, this.stored).sort();
    return {
      count: this.seen,
      p50: percentile(sorted, 50),
      p95: percentile(sorted, 95),
      p99: percentile(sorted, 99),
      max: sorted.length ? (sorted[sorted.length - 1] as number) : Number.NaN,
    };
  }
}
