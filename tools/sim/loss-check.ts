import { identify } from "./sample-identity.ts";

/** What one user's relays sent, by channel (one channel per relay) and seq: the number of samples. */
export interface UserLedger {
  /** Frames the server acked: every sample must be stored exactly once. */
  acked: Map<string, Map<number, number>>;
  /** Frames answered with an error: none of their samples may be stored (docs/protocol.md, "nothing of the frame was kept"). */
  rejected: Map<string, Map<number, number>>;
  /** Frames still unacked when the run ended: stored or not, but never twice. */
  unconfirmed: Map<string, Map<number, number>>;
}

export function emptyLedger(): UserLedger {
  return { acked: new Map(), rejected: new Map(), unconfirmed: new Map() };
}

export function recordFrame(
  book: Map<string, Map<number, number>>,
  channel: string,
  seq: number,
  samples: number,
): void {
  let frames = book.get(channel);
  if (!frames) {
    frames = new Map();
    book.set(channel, frames);
  }
  frames.set(seq, samples);
}

/** A sample as read back from `GET /v1/users/:user_id/samples`. */
export interface StoredSample {
  t?: unknown;
  ch: unknown;
  v: unknown;
}

export interface LossReport {
  ok: boolean;
  /** Acked samples that must be in D1. */
  expected: number;
  /** Rows read back. */
  stored: number;
  missing: number;
  /** Extra copies of a sample beyond the first. */
  duplicates: number;
  /** Rows that no acked or unconfirmed frame explains (including samples of rejected frames). */
  unexpected: number;
  /** Samples of frames that were never acked nor rejected: tolerated either way. */
  unconfirmed: number;
  /** A few of each, to start debugging from. */
  examples: { missing: string[]; duplicates: string[]; unexpected: string[] };
}

const EXAMPLES = 5;

/** A report with nothing counted yet (`stored` as given). */
export function emptyLossReport(stored = 0): LossReport {
  return {
    ok: false,
    expected: 0,
    stored,
    missing: 0,
    duplicates: 0,
    unexpected: 0,
    unconfirmed: 0,
    examples: { missing: [], duplicates: [], unexpected: [] },
  };
}

/** Keeps `text` as an example while the list has fewer than EXAMPLES. */
export function noteExample(list: string[], text: string): void {
  if (list.length < EXAMPLES) list.push(text);
}

/** Compares what was acked with what was read back, user by user. Pure: no I/O. */
export function checkLoss(
  ledgers: ReadonlyMap<string, UserLedger>,
  storedByUser: ReadonlyMap<string, readonly StoredSample[]>,
): LossReport {
  const report = emptyLossReport();
  const note = noteExample;
  const users = new Set([...ledgers.keys(), ...storedByUser.keys()]);
  for (const userId of users) {
    const ledger = ledgers.get(userId) ?? emptyLedger();
    const stored = storedByUser.get(userId) ?? [];
    report.stored += stored.length;
    const copies = new Map<string, number>();
    for (const row of stored) {
      const id = identify(row.ch, row.v);
      const known =
        id !== null &&
        (within(ledger.acked, id.channel, id.seq, id.idx) ||
          within(ledger.unconfirmed, id.channel, id.seq, id.idx));
      if (!id || !known) {
        report.unexpected++;
        note(report.examples.unexpected, `${userId}: ch=${String(row.ch)} v=${String(row.v)}`);
        continue;
      }
      const key = `${id.channel}\u0000${id.seq}\u0000${id.idx}`;
      copies.set(key, (copies.get(key) ?? 0) + 1);
    }
    const visit = (book: Map<string, Map<number, number>>, required: boolean) => {
      for (const [channel, frames] of book) {
        for (const [seq, samples] of frames) {
          if (required) report.expected += samples;
          else report.unconfirmed += samples;
          for (let idx = 0; idx < samples; idx++) {
            const n = copies.get(`${channel}\u0000${seq}\u0000${idx}`) ?? 0;
            const where = `${userId}: ch=${channel} seq=${seq} idx=${idx}`;
            if (n === 0 && required) {
              report.missing++;
              note(report.examples.missing, where);
            } else if (n > 1) {
              report.duplicates += n - 1;
              note(report.examples.duplicates, `${where} stored ${n} times`);
            }
          }
        }
      }
    };
    visit(ledger.acked, true);
    visit(ledger.unconfirmed, false);
  }
  report.ok = report.missing === 0 && report.duplicates === 0 && report.unexpected === 0;
  return report;
}

function within(book: Map<string, Map<number, number>>, channel: string, seq: number, idx: number): boolean {
  const samples = book.get(channel)?.get(seq);
  return samples !== undefined && idx < samples;
}
