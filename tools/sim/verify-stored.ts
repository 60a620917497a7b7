import { checkLoss, type LossReport, type StoredSample } from "./loss-check.ts";
import { readStoredSamples } from "./read-back.ts";
import type { LoadResult } from "./run.ts";
import { sleep } from "./run.ts";

export interface StorageVerdict extends LossReport {
  /** False when the settle timeout ended the wait while samples were still missing. */
  settled: boolean;
  /** Time from the first read-back to the verdict (ms). */
  settleMs: number;
}

const POLL_MS = 1_000;
/** Stored counts unchanged this long mean the buffers have flushed whatever they will flush. */
/**
 * A stored count unchanged this long ends the wait: longer than a flush interval plus its alarm's jitter
 * (production's FLUSH_INTERVAL_MS is 30 s), so samples still buffered are never reported missing.
 */
const STABLE_MS = 40_000;
const READ_CONCURRENCY = 8;

/**
 * The loss check: reads every simulated user's samples back from D1 until nothing is missing, or the
 * stored count stops changing for STABLE_MS, or `settleTimeoutS` passes; then compares with the acks.
 */
export async function verifyStored(
  baseUrl: string,
  load: LoadResult,
  settleTimeoutS: number,
  onPoll?: (report: LossReport) => void,
): Promise<StorageVerdict> {
  return settle(async () => checkLoss(load.ledgers, await readAll(baseUrl, load)), settleTimeoutS, onPoll);
}

/**
 * Runs `check` (read back, compare) until nothing is missing, or the stored count stops changing for
 * STABLE_MS, or `settleTimeoutS` passes; the last report is the verdict.
 */
export async function settle(
  check: () => Promise<LossReport>,
  settleTimeoutS: number,
  onPoll?: (report: LossReport) => void,
): Promise<StorageVerdict> {
  const startedAt = performance.now();
  const deadline = startedAt + settleTimeoutS * 1_000;
  let lastStored = -1;
  let stableSince = startedAt;
  for (;;) {
    const report = await check();
    onPoll?.(report);
    const now = performance.now();
    if (report.stored !== lastStored) {
      lastStored = report.stored;
      stableSince = now;
    }
    const settled = report.missing === 0 || now - stableSince >= STABLE_MS;
    if (settled || now >= deadline) return { ...report, settled, settleMs: now - startedAt };
    await sleep(Math.min(POLL_MS, deadline - now));
  }
}

async function readAll(baseUrl: string, load: LoadResult): Promise<Map<string, StoredSample[]>> {
  const stored = new Map<string, StoredSample[]>();
  const queue = [...load.users];
  await Promise.all(
    Array.from({ length: Math.min(READ_CONCURRENCY, queue.length) }, async () => {
      for (let user = queue.shift(); user; user = queue.shift()) {
        stored.set(user.userId, await readStoredSamples(baseUrl, user.userId, user.consumerToken));
      }
    }),
  );
  return stored;
}
