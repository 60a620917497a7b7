import { describe, expect, it } from "vitest";
import type { Config } from "../config";
import type { ParsedSamples } from "../protocol/parse-frame";
import type { AckedSeqs, SeqStatus } from "../storage/stream-state/acked-seqs";
import { Admission } from "./admission";

const config = { bufferCapacity: 100, maxSamplesPerFrame: 50 } as Config;

function frame(relay: string, seq: number, count: number): ParsedSamples {
  const samples = Array.from({ length: count }, (_, i) => ({ t: i, ch: "a", v: i }));
  return {
    frame: { type: "samples", relay_id: relay, session_id: "s", seq, samples },
    samplesJson: JSON.stringify(samples),
    tMin: 0,
    tMax: count - 1,
  };
}

function frameText(relay: string, seq: number, count: number) {
  return frame(relay, seq, count).frame;
}

/** Every acked seq of the fake was stored with print 1. */
const PRINT = 1;

/** Admission over a buffer of `size` samples, with `acked` seqs and a floor per relay. */
function admission(size: number, acked: Record<string, number[]> = {}, floor = 0) {
  const seqs = {
    status: (relay: string, seq: number): SeqStatus =>
      acked[relay]?.includes(seq) ? "acked" : seq <= floor ? "forgotten" : "new",
    floor: () => floor,
    printOf: () => PRINT,
  } as unknown as AckedSeqs;
  return new Admission(
    config,
    () => seqs,
    () => size,
    () => 1_000,
  );
}

describe("Admission", () => {
  it("stores new seqs in any order, acks duplicates again, also of frames still queued", () => {
    const a = admission(0, { r1: [5] });
    expect(a.admit(frame("r1", 7, 1), PRINT, 0)).toEqual({ kind: "store" });
    expect(a.admit(frame("r1", 6, 1), PRINT, 0)).toEqual({ kind: "store" });
    expect(a.admit(frame("r1", 5, 1), PRINT, 0)).toEqual({ kind: "duplicate" });
    expect(a.admit(frame("r1", 7, 1), PRINT, 0)).toEqual({ kind: "duplicate" });
    a.drained();
    expect(a.admit(frame("r1", 7, 1), PRINT, 0)).toEqual({ kind: "store" }); // the fake never learns it was acked
  });

  it("refuses an acked seq reused with other content, naming the conflict, also against the queue", () => {
    const a = admission(0, { r1: [5] });
    const reused = a.admit(frame("r1", 5, 1), PRINT + 1, 0);
    expect(reused).toMatchObject({ kind: "refuse", error: { code: "invalid", seq: 5 } });
    expect(reused.kind === "refuse" && reused.error.message).toMatch(
      /already acked .* other content.*new relay_id/,
    );
    expect(a.admit(frame("r1", 8, 1), 7, 0)).toEqual({ kind: "store" });
    expect(a.admit(frame("r1", 8, 1), 7, 0)).toEqual({ kind: "duplicate" });
    expect(a.admit(frame("r1", 8, 1), 8, 0)).toMatchObject({ kind: "refuse", error: { code: "invalid" } });
  });

  it("refuses a seq below the window, naming it", () => {
    const decision = admission(0, {}, 50).admit(frame("r1", 3, 1), PRINT, 0);
    expect(decision).toMatchObject({ kind: "refuse", error: { code: "invalid", seq: 3 } });
  });

  it("counts queued samples against the capacity and answers buffer_full with a jittered retry", () => {
    const a = admission(60);
    expect(a.admit(frame("r1", 1, 30), PRINT, 0)).toEqual({ kind: "store" });
    const refused = a.admit(frame("r2", 1, 11), PRINT, 0);
    expect(refused).toMatchObject({ kind: "refuse", error: { code: "buffer_full", seq: 1 } });
    const retry = refused.kind === "refuse" ? (refused.error.retry_after_ms as number) : 0;
    // A flush due in 1,000 ms, plus 100 ms, stretched by up to half.
    expect(retry).toBeGreaterThanOrEqual(1_100);
    expect(retry).toBeLessThanOrEqual(1_650);
    expect(a.admit(frame("r2", 2, 10), PRINT, 0)).toEqual({ kind: "store" });
  });

  it("refuses unparsed only what may not fit, from a relay told to wait or into a full buffer", () => {
    const a = admission(90);
    const big = JSON.stringify(frameText("r1", 1, 20));
    const small = JSON.stringify(frameText("r1", 2, 1));
    expect(a.refuseUnparsed(big, 0)).toBeNull(); // nobody was told to wait yet: parse it
    expect(a.admit(frame("r1", 1, 20), PRINT, 0).kind).toBe("refuse");
    expect(a.refuseUnparsed(JSON.stringify(frameText("r1", 3, 20)), 10)).toMatchObject({
      code: "buffer_full",
      seq: 3,
    });
    expect(a.refuseUnparsed(small, 10)).toBeNull(); // could fit the free room: parsed and admitted
    expect(a.refuseUnparsed(JSON.stringify(frameText("r9", 1, 20)), 10)).toBeNull(); // another relay: parsed
    expect(admission(100).refuseUnparsed(small, 0)).toMatchObject({ code: "buffer_full" }); // full buffer
    expect(admission(100, { r1: [2] }).refuseUnparsed(small, 0)).toBeNull(); // a duplicate is acked, not refused
  });

  it("stretches the retry hint with the relays already told to wait, up to 30 s", () => {
    // Capacity 100 and frames of up to 50: a flush makes room for one full frame, so each relay waiting before
    // this one adds a flush period (1,000 ms + 100 ms) to its hint.
    const a = admission(100);
    const hints = Array.from({ length: 40 }, (_, i) => {
      const d = a.admit(frame(`r${i}`, 1, 1), PRINT, 0);
      return d.kind === "refuse" ? (d.error.retry_after_ms as number) : 0;
    });
    expect(hints[0]).toBeLessThanOrEqual(1_650);
    expect(hints[4]).toBeGreaterThanOrEqual(5 * 1_100 * 0.999);
    expect(hints[4]).toBeLessThanOrEqual(5 * 1_650);
    expect(Math.max(...hints)).toBe(30_000);
  });
});
