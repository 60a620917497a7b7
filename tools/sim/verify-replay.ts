import type { LossReport } from "./loss-check.ts";
import { readStoredSamples } from "./read-back.ts";
import type { ReplayResult } from "./replay.ts";
import { checkReplay } from "./replay-check.ts";
import { type StorageVerdict, settle } from "./verify-stored.ts";

/**
 * The replay's loss check: reads the replay user's samples back (paging with next_cursor) until nothing is
 * missing or the buffers have flushed whatever they will (verify-stored.ts's settle), comparing exactly.
 */
export function verifyReplay(
  baseUrl: string,
  result: ReplayResult,
  channels: readonly string[],
  settleTimeoutS: number,
  onPoll?: (report: LossReport) => void,
): Promise<StorageVerdict> {
  const { user, ledger, relayId, frames } = result;
  return settle(
    async () =>
      checkReplay(
        ledger,
        relayId,
        frames.sent,
        channels,
        await readStoredSamples(baseUrl, user.userId, user.consumerToken),
      ),
    settleTimeoutS,
    onPoll,
  );
}
