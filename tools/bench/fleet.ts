import type { Percentiles } from "../sim/latency.ts";
import { runLoad } from "../sim/run.ts";
import type { BenchServer } from "./wrangler-server.ts";

/** Many users, one relay each, each sending a 10-sample frame every `secondsPerFrame` (2 in flight at most). */
export interface FleetSpec {
  users: number;
  secondsPerFrame: number;
  seconds: number;
}

export interface FleetResult extends FleetSpec {
  connectS: number;
  relaysConnected: number;
  askedFramesPerS: number;
  framesPerS: number;
  ackMs: Percentiles;
  /** Growth of the runtime's resident memory from before the cell to its peak, per user (its object and socket). */
  rssKiBPerUser: number;
  /** Open files of the busiest runtime process at the peak, per user: locally each object keeps its SQLite files. */
  openFilesPerUser: number;
  errors: Record<string, number>;
}

/** How often the runtime's memory and open files are sampled during the cell. */
const SAMPLE_MS = 500;

/** The fleet cell: what holding many users costs the local runtime (connect, rate held, memory, open files). */
export async function runFleetCell(
  server: BenchServer,
  secret: string,
  userPrefix: string,
  spec: FleetSpec,
): Promise<FleetResult> {
  const before = server.runtimeUsage();
  const peak = { ...before };
  const sampler = setInterval(() => {
    const now = server.runtimeUsage();
    peak.rssBytes = Math.max(peak.rssBytes, now.rssBytes);
    peak.openFiles = Math.max(peak.openFiles, now.openFiles);
  }, SAMPLE_MS);
  const askedFramesPerS = spec.users / spec.secondsPerFrame;
  try {
    const load = await runLoad({
      url: server.url,
      secret,
      users: spec.users,
      relays: spec.users,
      consumers: 0,
      samples: 10,
      sampleBytes: 0,
      rate: askedFramesPerS,
      window: 2,
      durationS: spec.seconds,
      frames: null,
      drainTimeoutS: 30,
      lossCheck: false,
      settleTimeoutS: 0,
      json: false,
      quiet: true,
      relayPath: "/v1/relay",
      userPrefix,
    });
    const { stats } = load;
    return {
      ...spec,
      connectS: Math.round(load.connectMs / 10) / 100,
      relaysConnected: load.relaysConnected,
      askedFramesPerS,
      framesPerS: Math.round(stats.framesAcked / (load.elapsedMs / 1_000)),
      ackMs: stats.ackLatency.percentiles(),
      rssKiBPerUser: Math.round((peak.rssBytes - before.rssBytes) / 1024 / spec.users),
      openFilesPerUser: Math.round(((peak.openFiles - before.openFiles) / spec.users) * 10) / 10,
      errors: Object.fromEntries(stats.errors),
    };
  } finally {
    clearInterval(sampler);
  }
}
