import type { Percentiles } from "./latency.ts";
import type { SimOptions } from "./options.ts";
import type { LoadResult } from "./run.ts";
import type { RunStats } from "./run-stats.ts";
import type { StorageVerdict } from "./verify-stored.ts";

/** The simulator's result, as `--json` prints it. */
export interface SimReport {
  /** Frames were acked and the loss check (when run) passed: the exit status is 0. */
  ok: boolean;
  config: Pick<
    SimOptions,
    "url" | "users" | "relays" | "consumers" | "samples" | "rate" | "window" | "durationS" | "frames"
  >;
  elapsedS: number;
  /** Time to open every relay socket before the first frame. */
  connectS: number;
  relaysConnected: number;
  framesSent: number;
  framesAcked: number;
  samplesAcked: number;
  framesPerS: number;
  samplesPerS: number;
  ackLatencyMs: Percentiles;
  fanoutLatencyMs: Percentiles;
  consumerFrames: number;
  consumerSamples: number;
  errors: Record<string, number>;
  reconnects: number;
  resends: number;
  /** Whether every relay made progress: the fewest and most frames acked of one relay, and relays with none. */
  fairness: { minFramesPerRelay: number; maxFramesPerRelay: number; relaysNeverAcked: number };
  /** Frames never answered within the drain timeout. */
  unconfirmedFrames: number;
  lossCheck: StorageVerdict | null;
}

export function buildReport(
  options: SimOptions,
  load: LoadResult,
  verdict: StorageVerdict | null,
): SimReport {
  const { stats, elapsedMs } = load;
  const seconds = elapsedMs / 1_000;
  const unconfirmedFrames = [...load.ledgers.values()].reduce(
    (n, ledger) => n + [...ledger.unconfirmed.values()].reduce((m, frames) => m + frames.size, 0),
    0,
  );
  return {
    // A run that got no frame acked proves nothing (wrong URL, secret or path): it fails like a loss.
    ok: stats.framesAcked > 0 && (verdict ? verdict.ok : true),
    config: {
      url: options.url,
      users: options.users,
      relays: options.relays,
      consumers: options.consumers,
      samples: options.samples,
      rate: options.rate,
      window: options.window,
      durationS: options.durationS,
      frames: options.frames,
    },
    elapsedS: round(seconds, 3),
    connectS: round(load.connectMs / 1_000, 3),
    relaysConnected: load.relaysConnected,
    framesSent: stats.framesSent,
    framesAcked: stats.framesAcked,
    samplesAcked: stats.samplesAcked,
    framesPerS: round(stats.framesAcked / seconds, 1),
    samplesPerS: round(stats.samplesAcked / seconds, 1),
    ackLatencyMs: roundAll(stats.ackLatency.percentiles()),
    fanoutLatencyMs: roundAll(stats.fanoutLatency.percentiles()),
    consumerFrames: stats.consumerFrames,
    consumerSamples: stats.consumerSamples,
    errors: Object.fromEntries(stats.errors),
    reconnects: stats.reconnects,
    resends: stats.resends,
    fairness: {
      minFramesPerRelay: Math.min(...load.framesAckedPerRelay),
      maxFramesPerRelay: Math.max(...load.framesAckedPerRelay),
      relaysNeverAcked: load.framesAckedPerRelay.filter((n) => n === 0).length,
    },
    unconfirmedFrames,
    lossCheck: verdict,
  };
}

export function formatReport(report: SimReport): string {
  const c = report.config;
  const lines = [
    `relay-sim against ${c.url}: ${c.users} users, ${c.relays} relays, ${c.consumers} consumers, ` +
      `${c.samples} samples/frame, ${c.rate ? `${c.rate} frames/s` : `window ${c.window}`}`,
    `  connected    ${report.relaysConnected} of ${c.relays} relays in ${report.connectS} s`,
    `  acked        ${fmt(report.samplesPerS)} samples/s, ${fmt(report.framesPerS)} frames/s ` +
      `(${report.framesAcked}/${report.framesSent} frames in ${report.elapsedS} s)`,
    `  ack latency  ${latency(report.ackLatencyMs)}`,
    `  fan-out      ${c.consumers ? `${latency(report.fanoutLatencyMs)}, ${report.consumerSamples} samples received` : "no consumers"}`,
    `  per relay    ${report.fairness.minFramesPerRelay} to ${report.fairness.maxFramesPerRelay} frames acked, ` +
      `${report.fairness.relaysNeverAcked} relays never acked`,
    `  errors       ${Object.keys(report.errors).length ? JSON.stringify(report.errors) : "none"}`,
    `  reconnects   ${report.reconnects}, resent frames ${report.resends}, unconfirmed frames ${report.unconfirmedFrames}`,
  ];
  if (report.framesAcked === 0)
    lines.push("  FAILED       no frame was acked (see errors: URL, secret, path?)");
  lines.push(...lossCheckLines(report.lossCheck));
  return lines.join("\n");
}

/** The report's loss check verdict, with a few examples of what went wrong. */
export function lossCheckLines(loss: StorageVerdict | null): string[] {
  if (!loss) return ["  LOSS CHECK   skipped"];
  const lines = [
    `  LOSS CHECK   ${loss.ok ? "PASSED" : "FAILED"}: ${loss.expected} expected, ${loss.stored} stored, ` +
      `${loss.missing} missing, ${loss.duplicates} duplicated, ${loss.unexpected} unexpected` +
      `${loss.unconfirmed ? `, ${loss.unconfirmed} unconfirmed (tolerated)` : ""}` +
      `${loss.settled ? "" : " (timed out waiting for the flush)"}`,
  ];
  for (const [kind, list] of Object.entries(loss.examples)) {
    for (const example of list) lines.push(`    ${kind}: ${example}`);
  }
  return lines;
}

/** One status line: what the run is doing right now (rates over the last interval). */
export class ProgressLine {
  private lastAt = 0;
  private lastFrames = 0;
  private lastSamples = 0;

  line(stats: RunStats, elapsedMs: number): string {
    const dt = (elapsedMs - this.lastAt) / 1_000 || 1;
    const frames = (stats.framesAcked - this.lastFrames) / dt;
    const samples = (stats.samplesAcked - this.lastSamples) / dt;
    this.lastAt = elapsedMs;
    this.lastFrames = stats.framesAcked;
    this.lastSamples = stats.samplesAcked;
    const errors = [...stats.errors].map(([code, n]) => `${code}=${n}`).join(" ") || "0";
    return (
      `[${(elapsedMs / 1_000).toFixed(1)}s] ${fmt(frames)} frames/s ${fmt(samples)} samples/s ` +
      `unacked ${stats.unacked} errors ${errors} reconnects ${stats.reconnects}`
    );
  }
}

export function latency(p: Percentiles): string {
  if (!p.count) return "no samples";
  return `p50 ${p.p50} ms, p95 ${p.p95} ms, p99 ${p.p99} ms, max ${p.max} ms (${p.count})`;
}

export function fmt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

export function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Number.isFinite(n) ? Math.round(n * f) / f : 0;
}

export function roundAll(p: Percentiles): Percentiles {
  return {
    count: p.count,
    p50: round(p.p50, 2),
    p95: round(p.p95, 2),
    p99: round(p.p99, 2),
    max: round(p.max, 2),
  };
}
