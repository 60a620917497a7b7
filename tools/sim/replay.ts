import { createReadStream } from "node:fs";
import { Readable } from "node:stream";
import { RefusalWatch } from "./connection-refusal.ts";
import { emptyLedger, type UserLedger } from "./loss-check.ts";
import { HARD_LIMITS, type ReplayOptions, type SimOptions } from "./options.ts";
import { Pacer } from "./pacer.ts";
import { SimRelay } from "./relay.ts";
import { openReplayCsv, type ReplayCsv } from "./replay-csv.ts";
import { ReplayFrames } from "./replay-frames.ts";
import { makeUsers, type SimUser, sleep, socketUrl } from "./run.ts";
import { RunStats } from "./run-stats.ts";

/** What a first pass over the file found: it is read whole before anything is sent. */
export interface RecordingScan {
  channels: string[];
  rows: number;
  samples: number;
  /** From the first row's time to the latest time in the file (ms). */
  spanMs: number;
}

export interface ReplayResult {
  user: SimUser;
  relayId: string;
  stats: RunStats;
  ledger: UserLedger;
  frames: ReplayFrames;
  /** From the first frame to the last answer (ms). */
  elapsedMs: number;
  connected: boolean;
}

export const REPLAY_RELAY_ID = "replay";
const CONNECT_TIMEOUT_MS = 30_000;
const PROGRESS_INTERVAL_MS = 1_000;
/** Rows of the recording per frame when --samples is not given. */
const DEFAULT_ROWS_PER_FRAME = 100;

export function openRecording(file: string): Promise<ReplayCsv> {
  return openReplayCsv(Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>);
}

/** Reads the whole file once: a bad row fails the replay before anything is sent, and the totals are known. */
export async function scanRecording(file: string): Promise<RecordingScan> {
  const csv = await openRecording(file);
  const scan: RecordingScan = { channels: csv.channels, rows: 0, samples: 0, spanMs: 0 };
  let firstT: number | null = null;
  for await (const row of csv.rows) {
    firstT ??= row.t;
    scan.rows++;
    scan.spanMs = Math.max(scan.spanMs, row.t - firstT);
    for (const v of row.values) if (v !== undefined) scan.samples++;
  }
  return scan;
}

export function samplesPerFrame(replay: ReplayOptions, channels: number): number {
  return replay.samplesPerFrame ?? Math.min(HARD_LIMITS.samples, DEFAULT_ROWS_PER_FRAME * channels);
}

/**
 * Streams the recording as one relay of one new user: frames of `samplesPerFrame` samples at the recorded
 * speed (or as fast as acks allow), resent after buffer_full and after a reconnect like any simulated relay
 * (tools/sim/relay.ts), then waits (bounded) for the last acks. `onProgress` is called about once a second.
 */
export async function runReplay(
  options: SimOptions,
  replay: ReplayOptions,
  scan: RecordingScan,
  onProgress?: (stats: RunStats, elapsedMs: number, frames: ReplayFrames) => void,
): Promise<ReplayResult> {
  const wallS = replay.speed === null ? 0 : scan.spanMs / 1_000 / replay.speed;
  const [user] = (await makeUsers({ ...options, users: 1, durationS: wallS })) as [SimUser];
  const stats = new RunStats();
  const ledger = emptyLedger();
  const frames = new ReplayFrames({
    channels: scan.channels,
    samplesPerFrame: samplesPerFrame(replay, scan.channels.length),
    speed: replay.speed,
    shiftToNow: replay.now,
  });
  const url = socketUrl(options.url, options.relayPath, user.userId, user.relayToken);
  // A wrong URL or secret fails at once, naming why (ConnectionRefusedError), as in a load run.
  const refusals = new RefusalWatch();
  await refusals.preflight(url, "relay");
  const relay = new SimRelay({
    url,
    relayId: REPLAY_RELAY_ID,
    sessionId: `s-${REPLAY_RELAY_ID}`,
    frames,
    samplesPerFrame: 0, // unused: the frames come from the file
    sampleBytes: 0,
    maxFrames: null,
    pacer: new Pacer(0, Number.POSITIVE_INFINITY),
    window: options.window,
    stats,
    ledger,
    onConnectFailed: () => refusals.connectFailed(url, "relay"),
  });
  const csv = await openRecording(replay.file);
  let readError: unknown = null;
  const reading = frames
    .read(csv.rows, () => relay.pump())
    .catch((err: unknown) => {
      readError = err;
    });
  const stopped = () => readError !== null || refusals.error !== null;

  const connected = await Promise.race([
    relay.connect(CONNECT_TIMEOUT_MS),
    refusals.refused.then(() => false),
  ]);
  // The recording's clock starts once the socket is open: connecting is not part of the replay.
  const startedAt = performance.now();
  frames.start(startedAt);
  relay.start();
  const progress = onProgress
    ? setInterval(() => onProgress(stats, performance.now() - startedAt, frames), PROGRESS_INTERVAL_MS)
    : null;
  try {
    while (relay.active && !stopped()) {
      // Frames become due with the recording's clock; acks and newly read frames pump the relay too.
      await sleep(Math.min(50, Math.max(1, frames.dueIn(performance.now()) ?? 50)));
      relay.pump();
    }
    if (!stopped()) await Promise.race([relay.drain(options.drainTimeoutS * 1_000), refusals.refused]);
  } finally {
    if (progress) clearInterval(progress);
  }
  const elapsedMs = performance.now() - startedAt;
  relay.close();
  frames.cancel();
  await reading;
  if (refusals.error) throw refusals.error;
  if (readError !== null) throw readError;
  return { user, relayId: REPLAY_RELAY_ID, stats, ledger, frames, elapsedMs, connected };
}
