/** The benchmark's cells: a full run (BENCHMARKS.md) or a quick one (the end-to-end test, under a minute). */
export interface BenchPlan {
  quick: boolean;
  cellSeconds: number;
  samplesPerFrame: number[];
  relays: number[];
  /** Half of the 150,000 samples/s target at 100 samples per frame: the latency and fan-out cells' load. */
  halfLoad: { samples: number; relays: number; framesPerS: number; consumers: number };
  /** Cost per sample across user counts, at a fixed total load (one relay per user). */
  users: number[];
  usersLoad: { samples: number; framesPerS: number };
  /** Extra metric series seeded before each /metrics timing. */
  metricSeries: number[];
}

export const TARGETS = {
  samplesPerSAt100: 150_000,
  shareOfParseCeiling: 0.6,
  framesPerSAt1: 5_000,
  ackP99Ms: 25,
  fanoutP99Ms: 10,
  /** "Flat": the most expensive user count costs at most this much more per sample than the cheapest. */
  costSpread: 1.5,
} as const;

export function benchPlan(quick: boolean, cellSeconds?: number): BenchPlan {
  const halfLoad = {
    samples: 100,
    relays: 10,
    framesPerS: TARGETS.samplesPerSAt100 / 100 / 2,
    consumers: 10,
  };
  if (quick) {
    return {
      quick,
      cellSeconds: cellSeconds ?? 1,
      samplesPerFrame: [1, 100],
      relays: [1, 10],
      halfLoad,
      users: [1, 10],
      usersLoad: { samples: 10, framesPerS: 500 },
      metricSeries: [100],
    };
  }
  return {
    quick,
    cellSeconds: cellSeconds ?? 3,
    samplesPerFrame: [1, 10, 100, 1_000],
    relays: [1, 10, 100],
    halfLoad,
    users: [1, 10, 100, 1_000],
    usersLoad: { samples: 10, framesPerS: 1_000 },
    metricSeries: [1_000, 10_000],
  };
}
