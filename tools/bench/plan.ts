import type { FleetSpec } from "./fleet.ts";

/** The benchmark's cells: a full run (BENCHMARKS.md) or a quick one (the end-to-end test, about two minutes). */
export interface BenchPlan {
  quick: boolean;
  cellSeconds: number;
  samplesPerFrame: number[];
  relays: number[];
  /** Half of the 150,000 samples/s target at 100 samples per frame: the latency and fan-out cells' load. */
  halfLoad: { samples: number; relays: number; framesPerS: number; consumers: number };
  /**
   * Cost per sample across user counts, at a fixed total load (one relay per user), on a server of its own at
   * `flushMs`: each count runs for both `seconds` on fresh users, to split per-sample from one-time cost. The
   * second is longer by one flush interval: one more flush per user, as in steady state, and both cells wait
   * as long for their last flush.
   */
  users: number[];
  usersLoad: { samples: number; framesPerS: number; seconds: [number, number]; flushMs: number };
  /** Extra metric series seeded before each /metrics timing. */
  metricSeries: number[];
  /** Samples written per data shape and layout by the storage benchmark (storage.ts). */
  storageSamples: number;
  /** Also time the chunk codec alone (chunk-size.ts, in Node). */
  chunkSizes: boolean;
  /** Loads an operator runs, on the default config and (operatorTuned) on the tuned one (BUFFER_CAPACITY 1,000,000). */
  operator: OperatorCell[];
  operatorTuned: boolean;
  /** Issue 9's overload cell, on the default config: many relays with deep windows of big frames on ONE user. */
  overload: OperatorCell;
  /** Many users at the production flush on a server of their own (fleet.ts); null: not run. */
  fleet: FleetSpec | null;
}

export interface OperatorCell {
  label: string;
  samples: number;
  relays: number;
  users: number;
  window: number;
  seconds: number;
}

export const TARGETS = {
  samplesPerSAt100: 150_000,
  shareOfParseCeiling: 0.6,
  framesPerSAt1: 5_000,
  ackP99Ms: 25,
  fanoutP99Ms: 10,
  /** Per sample, the largest user count costs at most this many times what 10 users cost (same total rate). */
  usersCostRatio: 1.3,
  /** Throughput against the hand-written Node peer, in every matrix cell. */
  timesPeer: 1.5,
} as const;

export function benchPlan(quick: boolean, cellSeconds?: number, fleetUsers?: number): BenchPlan {
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
      usersLoad: { samples: 10, framesPerS: 500, seconds: [1, 3], flushMs: 2_000 },
      metricSeries: [100],
      storageSamples: 10_000,
      chunkSizes: false,
      operator: [operatorFew(1)],
      operatorTuned: false,
      overload: overloadCell({ relays: 10, window: 8, seconds: 1 }),
      fleet: fleetUsers ? { users: fleetUsers, secondsPerFrame: 10, seconds: 5 } : null,
    };
  }
  return {
    quick,
    cellSeconds: cellSeconds ?? 3,
    samplesPerFrame: [1, 10, 100, 1_000],
    relays: [1, 10, 100],
    halfLoad,
    users: [1, 10, 100, 1_000],
    // The production flush (wrangler.toml's [env.production]): at the local 1 s, 1,000 users would ask local D1
    // for 1,000 flushes a second, more than it takes ("Past one D1 database").
    usersLoad: { samples: 10, framesPerS: 1_000, seconds: [5, 35], flushMs: 30_000 },
    metricSeries: [1_000, 10_000],
    storageSamples: 300_000,
    chunkSizes: true,
    operator: [operatorFew(5), operatorMany(5)],
    operatorTuned: true,
    overload: overloadCell({ relays: 50, window: 32, seconds: 10 }),
    // 10,000 users need about 50,000 open files in one local runtime (BENCHMARKS.md); 3,000 fit 20,000.
    fleet: fleetUsers === 0 ? null : { users: fleetUsers ?? 3_000, secondsPerFrame: 10, seconds: 20 },
  };
}

/** A handful of phones or gateways, each waiting for its acks (2 frames in flight) with 100-sample frames. */
const operatorFew = (seconds: number): OperatorCell => ({
  label: "few relays, small windows",
  samples: 100,
  relays: 5,
  users: 5,
  window: 2,
  seconds,
});

/** A fleet: 200 relays over 20 users (10 per user), 32 frames in flight each. */
const operatorMany = (seconds: number): OperatorCell => ({
  label: "many relays, large windows",
  samples: 100,
  relays: 200,
  users: 20,
  window: 32,
  seconds,
});

/** Issue 9's cell (the full plan: 50 relays × 32 frames in flight × 1,000 samples on one user, 10 s). */
const overloadCell = (o: { relays: number; window: number; seconds: number }): OperatorCell => ({
  label: `overload: ${o.relays} relays × ${o.window} in flight × 1,000 samples, one user`,
  samples: 1_000,
  users: 1,
  ...o,
});
