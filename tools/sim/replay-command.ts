import { ConnectionRefusedError } from "./connection-refusal.ts";
import { HARD_LIMITS, type ReplayOptions, type SimOptions } from "./options.ts";
import { type RecordingScan, type ReplayResult, runReplay, scanRecording } from "./replay.ts";
import { ReplayCsvError } from "./replay-csv.ts";
import { buildReplayReport, formatReplayReport } from "./replay-report.ts";
import { fmt, ProgressLine } from "./report.ts";
import { verifyReplay } from "./verify-replay.ts";

/**
 * `npm run sim -- --replay FILE`: checks the whole file, streams it, reads every sample back and prints the
 * report. Returns the exit status: 0 passed, 1 samples not acked or not stored exactly (or the server refused
 * the connection), 2 a bad file.
 */
export async function replayCommand(options: SimOptions, replay: ReplayOptions): Promise<number> {
  const live = !options.quiet;
  const tty = process.stderr.isTTY;
  const status = (text: string) => {
    if (!live) return;
    if (tty) process.stderr.write(`\r\x1b[2K${text}`);
    else process.stderr.write(`${text}\n`);
  };
  const endStatus = () => {
    if (tty && live) process.stderr.write("\n");
  };

  let scan: RecordingScan;
  try {
    status(`reading ${replay.file} ...`);
    scan = await scanRecording(replay.file);
    endStatus();
  } catch (err) {
    endStatus();
    const code = (err as NodeJS.ErrnoException).code;
    if (!(err instanceof ReplayCsvError) && typeof code !== "string") throw err;
    console.error(`relay-sim: ${replay.file}: ${(err as Error).message}`);
    return 2;
  }
  if (scan.samples === 0) {
    console.error(`relay-sim: ${replay.file}: no samples to replay (${scan.rows} rows, every cell empty)`);
    return 2;
  }
  if (options.lossCheck && scan.samples > HARD_LIMITS.lossCheckSamples) {
    console.error(
      `relay-sim: ${replay.file} holds ${scan.samples} samples, more than the loss check reads back ` +
        `(${HARD_LIMITS.lossCheckSamples}); replay a part of it or pass --no-loss-check`,
    );
    return 2;
  }

  const progress = new ProgressLine();
  let result: ReplayResult;
  try {
    result = await runReplay(options, replay, scan, (stats, elapsedMs, frames) =>
      status(
        `${progress.line(stats, elapsedMs)} sent ${fmt(frames.samplesSent)} of ${fmt(scan.samples)} samples ` +
          `(line ${frames.lastLineSent})`,
      ),
    );
  } catch (err) {
    endStatus();
    if (err instanceof ConnectionRefusedError) {
      console.error(`relay-sim: ${err.message}`);
      return 1;
    }
    if (err instanceof ReplayCsvError) {
      console.error(`relay-sim: ${replay.file} changed while it was replayed: ${err.message}`);
      return 2;
    }
    throw err;
  }
  endStatus();

  let verdict = null;
  if (options.lossCheck) {
    status("loss check: reading the samples back from D1 ...");
    try {
      verdict = await verifyReplay(options.url, result, scan.channels, options.settleTimeoutS, (r) =>
        status(`loss check: ${r.stored} of ${r.expected} acked samples stored, ${r.missing} missing`),
      );
    } catch (err) {
      endStatus();
      console.error(`relay-sim: the loss check could not read the samples back: ${(err as Error).message}`);
      return 1;
    }
    endStatus();
  }

  const report = buildReplayReport(options, replay, scan, result, verdict);
  console.log(options.json ? JSON.stringify(report, null, 2) : formatReplayReport(report));
  return report.ok ? 0 : 1;
}
