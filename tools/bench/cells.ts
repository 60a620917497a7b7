import type { Percentiles } from "../sim/latency.ts";
import type { SimOptions } from "../sim/options.ts";
import { runLoad, sleep } from "../sim/run.ts";
import type { BenchServer } from "./wrangler-server.ts";

/** What a cell measures against: one of the two ceilings, the real Worker, or the hand-written Node peer. */
export type Target = "parse" | "sqlite" | "pipeline" | "peer";

export const RELAY_PATHS: Record<Target, string> = {
  parse: "/bench/ceiling/parse",
  sqlite: "/bench/ceiling/sqlite",
  pipeline: "/v1/relay",
  peer: "/v1/relay",
};

export interface CellSpec {
  target: Target;
  samples: number;
  relays: number;
  users: number;
  consumers: number;
  /** Frames/s over all relays; 0 = as fast as acks allow. */
  rate: number;
  seconds: number;
  /** Unacked frames in flight per relay (default 16). */
  window?: number;
}

export interface CellResult extends CellSpec {
  framesPerS: number;
  samplesPerS: number;
  ackMs: Percentiles;
  fanoutMs: Percentiles;
  errors: Record<string, number>;
  samplesAcked: number;
  /** Seconds to open every relay socket (and create the users' objects) before the clock started. */
  connectS: number;
  /** Server (wrangler + workerd) CPU per acked sample, µs; for the pipeline including the D1 flush. */
  serverCpuUsPerSample: number;
  /** The same by process: workerd (the runtime: Worker, objects, local D1) and node (wrangler's own process). */
  serverCpuUsPerSampleByProcess: Record<string, number>;
  /** The simulator's own CPU per acked sample, µs (it shares the machine). */
  clientCpuUsPerSample: number;
  /** Pipeline only: seconds from the last ack until D1 held every acked sample (null: not within the bound). */
  drainS: number | null;
}

export interface CellContext {
  server: BenchServer;
  secret: string;
  /** Unique per benchmark run, so cells never share users. */
  runId: string;
  /** Upper bound on the wait for D1 after a pipeline cell. */
  drainTimeoutS: number;
}

const WINDOW = 16;
let cellCounter = 0;

export async function runCell(ctx: CellContext, spec: CellSpec): Promise<CellResult> {
  const userPrefix = `b${ctx.runId}-${++cellCounter}`;
  const options: SimOptions = {
    url: ctx.server.url,
    secret: ctx.secret,
    users: spec.users,
    relays: spec.relays,
    consumers: spec.consumers,
    samples: spec.samples,
    sampleBytes: 0,
    rate: spec.rate,
    window: spec.window ?? WINDOW,
    durationS: spec.seconds,
    frames: null,
    drainTimeoutS: 10,
    lossCheck: false,
    settleTimeoutS: 0,
    json: false,
    quiet: true,
    relayPath: RELAY_PATHS[spec.target],
    userPrefix,
  };
  const serverCpuBefore = ctx.server.cpuSeconds();
  const clientCpuBefore = process.cpuUsage();
  const load = await runLoad(options);
  const clientCpu = process.cpuUsage(clientCpuBefore);
  const { stats } = load;
  const drainS = spec.target === "pipeline" ? await waitForD1(ctx, userPrefix, stats.samplesAcked) : null;
  const serverCpuAfter = ctx.server.cpuSeconds();
  const serverCpuByProcess: Record<string, number> = {};
  for (const [command, seconds] of Object.entries(serverCpuAfter)) {
    serverCpuByProcess[command] = seconds - (serverCpuBefore[command] ?? 0);
  }
  const serverCpu = Object.values(serverCpuByProcess).reduce((a, b) => a + b, 0);
  const seconds = load.elapsedMs / 1_000;
  const perSample = (us: number) => (stats.samplesAcked ? round(us / stats.samplesAcked, 2) : 0);
  return {
    ...spec,
    framesPerS: Math.round(stats.framesAcked / seconds),
    samplesPerS: Math.round(stats.samplesAcked / seconds),
    ackMs: stats.ackLatency.percentiles(),
    fanoutMs: stats.fanoutLatency.percentiles(),
    errors: Object.fromEntries(stats.errors),
    samplesAcked: stats.samplesAcked,
    connectS: round(load.connectMs / 1_000, 2),
    serverCpuUsPerSample: perSample(serverCpu * 1e6),
    serverCpuUsPerSampleByProcess: Object.fromEntries(
      Object.entries(serverCpuByProcess).map(([command, seconds]) => [command, perSample(seconds * 1e6)]),
    ),
    clientCpuUsPerSample: perSample(clientCpu.user + clientCpu.system),
    drainS,
  };
}

/** Waits until D1 holds `expected` samples of the cell's users; the seconds it took, or null past the bound. */
async function waitForD1(ctx: CellContext, prefix: string, expected: number): Promise<number | null> {
  const startedAt = performance.now();
  const deadline = startedAt + ctx.drainTimeoutS * 1_000;
  const url = new URL("/bench/stored-count", ctx.server.url);
  url.searchParams.set("prefix", `${prefix}-`);
  while (performance.now() < deadline) {
    const res = await fetch(url);
    const { count } = (await res.json()) as { count: number };
    // More than acked is possible only for frames still unanswered at the end of the cell.
    if (count >= expected) return round((performance.now() - startedAt) / 1_000, 2);
    await sleep(200);
  }
  return null;
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
