import {
  emptyLossReport,
  type LossReport,
  noteExample,
  type StoredSample,
  type UserLedger,
} from "./loss-check.ts";
import { jsonNumber, type SentFrame } from "./replay-frames.ts";

/**
 * The replay's loss check, exact: the samples of the acked frames must be stored as they were in the file,
 * `v` bit for bit at its `t` and channel, each exactly as often as the file has it (a multiset compare, since
 * a recording may repeat a (t, ch, v)). Samples of unacked frames may be stored or not; nothing else may be.
 * Pure: no I/O.
 */
export function checkReplay(
  ledger: UserLedger,
  relayId: string,
  sent: ReadonlyMap<number, SentFrame>,
  channels: readonly string[],
  stored: readonly StoredSample[],
): LossReport {
  const report = emptyLossReport(stored.length);
  const note = noteExample;
  /** By sample key: copies required (acked), copies tolerated (unconfirmed), copies read back. */
  const tally = new Map<string, { required: number; tolerated: number; found: number }>();
  const entry = (key: string) => {
    let counts = tally.get(key);
    if (!counts) {
      counts = { required: 0, tolerated: 0, found: 0 };
      tally.set(key, counts);
    }
    return counts;
  };
  const book = (frames: Map<number, number> | undefined, required: boolean) => {
    for (const seq of frames?.keys() ?? []) {
      const frame = sent.get(seq);
      if (!frame) continue;
      for (let i = 0; i < frame.t.length; i++) {
        const counts = entry(
          sampleKey(frame.t[i] as number, channels[frame.ch[i] as number] as string, frame.v[i] as number),
        );
        if (required) counts.required++;
        else counts.tolerated++;
      }
      if (required) report.expected += frame.t.length;
      else report.unconfirmed += frame.t.length;
    }
  };
  book(ledger.acked.get(relayId), true);
  book(ledger.unconfirmed.get(relayId), false);

  for (const row of stored) {
    const { t, ch, v } = row;
    if (typeof t !== "number" || typeof ch !== "string" || typeof v !== "number") {
      report.unexpected++;
      note(report.examples.unexpected, `not a sample: ${JSON.stringify(row).slice(0, 200)}`);
      continue;
    }
    entry(sampleKey(t, ch, v)).found++;
  }
  for (const [key, { required, tolerated, found }] of tally) {
    const where = key.replaceAll("\u0000", " ");
    if (found < required) {
      report.missing += required - found;
      note(report.examples.missing, `${where} (stored ${found} of ${required})`);
    }
    const extra = found - required - tolerated;
    if (extra <= 0) continue;
    if (required + tolerated > 0) {
      report.duplicates += extra;
      note(report.examples.duplicates, `${where} stored ${found} times, sent ${required + tolerated}`);
    } else {
      report.unexpected += extra;
      note(report.examples.unexpected, `${where} was never sent`);
    }
  }
  report.ok = report.missing === 0 && report.duplicates === 0 && report.unexpected === 0;
  return report;
}

/** A sample as text that tells apart every float64 value (-0 included): the shortest round-trip digits. */
function sampleKey(t: number, ch: string, v: number): string {
  return `t=${t}\u0000ch=${ch}\u0000v=${jsonNumber(v)}`;
}
