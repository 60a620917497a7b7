import { describe, expect, it } from "vitest";
import {
  checkLoss,
  emptyLedger,
  recordFrame,
  type StoredSample,
  type UserLedger,
} from "../../tools/sim/loss-check.ts";
import { sampleValue } from "../../tools/sim/sample-identity.ts";

/** The rows D1 would hold for these frames of one relay, each sample once. */
function rowsOf(channel: string, frames: Array<[seq: number, samples: number]>): StoredSample[] {
  return frames.flatMap(([seq, samples]) =>
    Array.from({ length: samples }, (_, idx) => ({ ch: channel, v: sampleValue(seq, idx), t: 1 })),
  );
}

function ledgerWith(acked: Array<[channel: string, seq: number, samples: number]>): UserLedger {
  const ledger = emptyLedger();
  for (const [channel, seq, samples] of acked) recordFrame(ledger.acked, channel, seq, samples);
  return ledger;
}

describe("checkLoss", () => {
  const ledgers = new Map([
    [
      "u0",
      ledgerWith([
        ["r0", 1, 3],
        ["r0", 2, 3],
        ["r1", 1, 2],
      ]),
    ],
    ["u1", ledgerWith([["r0", 7, 4]])],
  ]);
  const complete = () =>
    new Map([
      [
        "u0",
        [
          ...rowsOf("r0", [
            [1, 3],
            [2, 3],
          ]),
          ...rowsOf("r1", [[1, 2]]),
        ],
      ],
      ["u1", rowsOf("r0", [[7, 4]])],
    ]);

  it("passes when every acked sample is stored exactly once", () => {
    const report = checkLoss(ledgers, complete());
    expect(report).toMatchObject({
      ok: true,
      expected: 12,
      stored: 12,
      missing: 0,
      duplicates: 0,
      unexpected: 0,
    });
  });

  it("catches one missing sample and names it", () => {
    const stored = complete();
    stored.set(
      "u0",
      (stored.get("u0") ?? []).filter((row) => row.v !== sampleValue(2, 1) || row.ch !== "r0"),
    );
    const report = checkLoss(ledgers, stored);
    expect(report).toMatchObject({ ok: false, missing: 1, duplicates: 0, unexpected: 0, stored: 11 });
    expect(report.examples.missing).toEqual(["u0: ch=r0 seq=2 idx=1"]);
  });

  it("catches one duplicated sample and names it", () => {
    const stored = complete();
    stored.get("u1")?.push({ ch: "r0", v: sampleValue(7, 3) });
    const report = checkLoss(ledgers, stored);
    expect(report).toMatchObject({ ok: false, missing: 0, duplicates: 1, unexpected: 0 });
    expect(report.examples.duplicates).toEqual(["u1: ch=r0 seq=7 idx=3 stored 2 times"]);
  });

  it("does not mistake the same seq and idx of another relay or user for a duplicate", () => {
    const stored = complete();
    // r1 seq 1 idx 0 has the same value as r0 seq 1 idx 0: it is a different sample.
    expect(stored.get("u0")?.filter((row) => row.v === sampleValue(1, 0))).toHaveLength(2);
    expect(checkLoss(ledgers, stored).ok).toBe(true);
  });

  it("counts stored samples of rejected frames, unknown frames and foreign rows as unexpected", () => {
    const withRejected = new Map(ledgers);
    const u1 = ledgerWith([["r0", 7, 4]]);
    recordFrame(u1.rejected, "r0", 8, 2);
    withRejected.set("u1", u1);
    const stored = complete();
    stored
      .get("u1")
      ?.push(...rowsOf("r0", [[8, 2]]), { ch: "r0", v: sampleValue(7, 4) }, { ch: "x", v: 1.5 });
    const report = checkLoss(withRejected, stored);
    expect(report).toMatchObject({ ok: false, missing: 0, duplicates: 0, unexpected: 4 });
  });

  it("tolerates unconfirmed frames stored or not, but not stored twice", () => {
    const ledger = ledgerWith([["r0", 1, 1]]);
    recordFrame(ledger.unconfirmed, "r0", 2, 2);
    const only = new Map([["u", ledger]]);
    const absent = checkLoss(only, new Map([["u", rowsOf("r0", [[1, 1]])]]));
    expect(absent).toMatchObject({ ok: true, expected: 1, unconfirmed: 2 });
    const present = checkLoss(
      only,
      new Map([
        [
          "u",
          rowsOf("r0", [
            [1, 1],
            [2, 2],
          ]),
        ],
      ]),
    );
    expect(present.ok).toBe(true);
    const twice = checkLoss(
      only,
      new Map([
        [
          "u",
          rowsOf("r0", [
            [1, 1],
            [2, 2],
            [2, 1],
          ]),
        ],
      ]),
    );
    expect(twice).toMatchObject({ ok: false, duplicates: 1 });
  });

  it("treats a user with acked frames and nothing read back as all missing", () => {
    const report = checkLoss(ledgers, new Map());
    expect(report).toMatchObject({ ok: false, expected: 12, missing: 12, stored: 0 });
  });
});
