import { describe, expect, it } from "vitest";
import { emptyLedger, recordFrame, type StoredSample } from "../../tools/sim/loss-check.ts";
import { checkReplay } from "../../tools/sim/replay-check.ts";
import type { SentFrame } from "../../tools/sim/replay-frames.ts";

const RELAY = "replay";
const CHANNELS = ["x", "n"];

type Sample = [t: number, ch: number, v: number];

function frame(samples: Sample[]): SentFrame {
  return {
    t: Float64Array.from(samples.map((s) => s[0])),
    ch: Uint32Array.from(samples.map((s) => s[1])),
    v: Float64Array.from(samples.map((s) => s[2])),
    lastLine: 0,
  };
}

/** Frames 1 and 2 acked, 3 unanswered at the end; sample (10, x, 0.1) appears twice in the file. */
const FRAMES = new Map<number, SentFrame>([
  [
    1,
    frame([
      [10, 0, 0.1],
      [10, 1, 7],
      [20, 0, -2.5],
    ]),
  ],
  [
    2,
    frame([
      [10, 0, 0.1],
      [5, 1, 8],
    ]),
  ], // goes back in time and repeats a sample
  [3, frame([[30, 0, 1e-300]])],
]);

function ledger(acked = [1, 2], unconfirmed = [3], rejected: number[] = []) {
  const l = emptyLedger();
  for (const seq of acked) recordFrame(l.acked, RELAY, seq, FRAMES.get(seq)?.t.length ?? 0);
  for (const seq of unconfirmed) recordFrame(l.unconfirmed, RELAY, seq, FRAMES.get(seq)?.t.length ?? 0);
  for (const seq of rejected) recordFrame(l.rejected, RELAY, seq, FRAMES.get(seq)?.t.length ?? 0);
  return l;
}

/** What the read route would answer for these samples (more fields than the check looks at). */
function rows(samples: Sample[]): StoredSample[] {
  return samples.map(([t, ch, v], idx) => ({ relay_id: RELAY, seq: 1, idx, t, ch: CHANNELS[ch], v }));
}

const ACKED: Sample[] = [
  [10, 0, 0.1],
  [10, 1, 7],
  [20, 0, -2.5],
  [10, 0, 0.1],
  [5, 1, 8],
];

describe("checkReplay", () => {
  it("passes when every acked sample is stored exactly as often as the file has it, in any order", () => {
    const report = checkReplay(ledger(), RELAY, FRAMES, CHANNELS, rows([...ACKED].reverse()));
    expect(report).toMatchObject({
      ok: true,
      expected: 5,
      stored: 5,
      missing: 0,
      duplicates: 0,
      unexpected: 0,
    });
    expect(report.unconfirmed).toBe(1);
  });

  it("tolerates the samples of a frame that was never answered, stored or not", () => {
    const report = checkReplay(ledger(), RELAY, FRAMES, CHANNELS, rows([...ACKED, [30, 0, 1e-300]]));
    expect(report).toMatchObject({ ok: true, stored: 6 });
  });

  it("finds a missing copy of a sample the file repeats", () => {
    const report = checkReplay(ledger(), RELAY, FRAMES, CHANNELS, rows(ACKED.slice(1)));
    expect(report).toMatchObject({ ok: false, missing: 1, duplicates: 0, unexpected: 0 });
    expect(report.examples.missing).toEqual(["t=10 ch=x v=0.1 (stored 1 of 2)"]);
  });

  it("finds a sample stored twice", () => {
    const report = checkReplay(ledger(), RELAY, FRAMES, CHANNELS, rows([...ACKED, [20, 0, -2.5]]));
    expect(report).toMatchObject({ ok: false, missing: 0, duplicates: 1, unexpected: 0 });
    expect(report.examples.duplicates).toEqual(["t=20 ch=x v=-2.5 stored 2 times, sent 1"]);
  });

  it("tells apart values one bit apart, -0 from 0, and a sample at another t or channel", () => {
    const nextUp = (v: number) => {
      const bits = new BigInt64Array(new Float64Array([v]).buffer);
      bits[0] = (bits[0] as bigint) + 1n;
      return new Float64Array(bits.buffer)[0] as number;
    };
    const cases: Array<[replaced: number, stored: Sample]> = [
      [2, [20, 0, nextUp(-2.5)]],
      [1, [10, 1, nextUp(7)]],
      [2, [21, 0, -2.5]],
      [2, [20, 1, -2.5]],
    ];
    for (const [replaced, changed] of cases) {
      const stored = ACKED.map((s, i) => (i === replaced ? changed : s));
      const report = checkReplay(ledger(), RELAY, FRAMES, CHANNELS, rows(stored));
      const [t, ch, v] = changed;
      const [t0, ch0, v0] = ACKED[replaced] as Sample;
      expect(report).toMatchObject({ ok: false, missing: 1, duplicates: 0, unexpected: 1 });
      expect(report.examples.unexpected).toEqual([`t=${t} ch=${CHANNELS[ch]} v=${v} was never sent`]);
      expect(report.examples.missing).toEqual([`t=${t0} ch=${CHANNELS[ch0]} v=${v0} (stored 0 of 1)`]);
    }
    expect(nextUp(7)).not.toBe(7);
    const zero = new Map([[1, frame([[1, 0, -0]])]]);
    const l = emptyLedger();
    recordFrame(l.acked, RELAY, 1, 1);
    expect(checkReplay(l, RELAY, zero, CHANNELS, rows([[1, 0, 0]]))).toMatchObject({
      ok: false,
      missing: 1,
      unexpected: 1,
    });
    expect(checkReplay(l, RELAY, zero, CHANNELS, rows([[1, 0, -0]]))).toMatchObject({ ok: true });
  });

  it("counts stored samples of a refused frame, and rows that are not samples, as unexpected", () => {
    const refused = ledger([1, 2], [], [3]);
    const report = checkReplay(refused, RELAY, FRAMES, CHANNELS, [
      ...rows([...ACKED, [30, 0, 1e-300]]),
      { t: "10", ch: "x", v: 0.1 },
    ]);
    expect(report).toMatchObject({ ok: false, expected: 5, stored: 7, missing: 0, unexpected: 2 });
  });
});
