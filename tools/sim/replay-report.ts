import type { Percentiles } from "./latency.ts";
import type { ReplayOptions, SimOptions } from "./options.ts";
import { type RecordingScan, type ReplayResult, samplesPerFrame } from "./replay.ts";
import { fmt, latency, lossCheckLines, round, roundAll } from "./report.ts";
import type { StorageVerdict } from "./verify-stored.ts";

/** The result of `npm run sim -- --replay FILE`, as `--json` prints it. */
export interface ReplayReport {
  /** Every sample of the file was acked and the loss check (when run) passed: the exit status is 0. */
  ok: boolean;
  config: {
    url: string;
    file: string;
    /** Times the recorded speed, or "max". */
    speed: number | "max";
    samplesPerFrame: number;
    window: number;
  };
  recording: RecordingScan;
  userId: string;
  relayId: string;
  connected: boolean;
  elapsedS: number;
  framesSent: number;
  framesAcked: number;
  /** Frames answered with a final error (not buffer_full): their samples are not stored. */
  framesRejected: number;
  samplesAcked: number;
  samplesPerS: number;
  ackLatencyMs: Percentiles;
  errors: Record<string, number>;
  reconnects: number;
  resends: number;
  unconfirmedFrames: number;
  /** Exact: every acked sample's (t, ch, v), v bit for bit. */
  lossCheck: StorageVerdict | null;
}

export function buildReplayReport(
  options: SimOptions,
  replay: ReplayOptions,
  scan: RecordingScan,
  result: ReplayResult,
  verdict: StorageVerdict | null,
): ReplayReport {
  const { stats, ledger, relayId } = result;
  const framesIn = (book: Map<string, Map<number, number>>) => book.get(relayId)?.size ?? 0;
  return {
    ok: stats.samplesAcked === scan.samples && scan.samples > 0 && (verdict ? verdict.ok : true),
    config: {
      url: options.url,
      file: replay.file,
      speed: replay.speed ?? "max",
      samplesPerFrame: samplesPerFrame(replay, scan.channels.length),
      window: options.window,
    },
    recording: scan,
    userId: result.user.userId,
    relayId,
    connected: result.connected,
    elapsedS: round(result.elapsedMs / 1_000, 3),
    framesSent: stats.framesSent,
    framesAcked: stats.framesAcked,
    framesRejected: framesIn(ledger.rejected),
    samplesAcked: stats.samplesAcked,
    samplesPerS: round(stats.samplesAcked / (result.elapsedMs / 1_000), 1),
    ackLatencyMs: roundAll(stats.ackLatency.percentiles()),
    errors: Object.fromEntries(stats.errors),
    reconnects: stats.reconnects,
    resends: stats.resends,
    unconfirmedFrames: framesIn(ledger.unconfirmed),
    lossCheck: verdict,
  };
}

export function formatReplayReport(report: ReplayReport): string {
  const { config: c, recording: r } = report;
  const speed = c.speed === "max" ? "as fast as acks allow" : `${c.speed}x recorded speed`;
  const lines = [
    `relay-sim replay of ${c.file} against ${c.url}: ${fmt(r.rows)} rows, ${r.channels.length} channels, ` +
      `${fmt(r.samples)} samples over ${round(r.spanMs / 1_000, 3)} s of recording; ${speed}, ` +
      `${c.samplesPerFrame} samples/frame, window ${c.window}`,
    `  relay        ${report.relayId} of user ${report.userId}${report.connected ? "" : " (could not connect)"}`,
    `  acked        ${fmt(report.samplesAcked)} of ${fmt(r.samples)} samples, ${report.framesAcked}/${report.framesSent} ` +
      `frames in ${report.elapsedS} s (${fmt(report.samplesPerS)} samples/s)`,
    `  ack latency  ${latency(report.ackLatencyMs)}`,
    `  errors       ${Object.keys(report.errors).length ? JSON.stringify(report.errors) : "none"}` +
      `${report.framesRejected ? `, ${report.framesRejected} frames refused for good` : ""}`,
    `  reconnects   ${report.reconnects}, resent frames ${report.resends}, unconfirmed frames ${report.unconfirmedFrames}`,
  ];
  if (report.samplesAcked !== r.samples) {
    lines.push(`  FAILED       ${fmt(r.samples - report.samplesAcked)} samples of the file were not acked`);
  }
  const [verdict = "", ...examples] = lossCheckLines(report.lossCheck);
  lines.push(report.lossCheck ? `${verdict}; t, ch and v compared exactly` : verdict, ...examples);
  return lines.join("\n");
}
