import { describe, expect, it } from "vitest";
import type { Config } from "../config";
import type { ParsedSamples } from "../protocol/parse-frame";
import type { AckedSeqs, SeqStatus } from "../storage/stream-state/acked-seqs";
import { Admission, type Decision, type FlushPace } from "./admission";

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

/** Acked seqs that know of none. */
const noSeqs = { status: () => "new", printOf: () => null } as unknown as AckedSeqs;

/** A flush due in 1,000 ms that moves `msPerSample` per sample. */
const pace = (msPerSample = 1): FlushPace => ({ dueInMs: () => 1_000, msPerSample: () => msPerSample });

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
    pace(),
  );
}

const retryOf = (d: Decision) => (d.kind === "refuse" ? (d.error.retry_after_ms as number) : 0);

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

  it("counts queued samples against the capacity and answers buffer_full with the frame's turn", () => {
    const a = admission(60);
    expect(a.admit(frame("r1", 1, 30), PRINT, 0)).toEqual({ kind: "store" });
    const refused = a.admit(frame("r2", 1, 11), PRINT, 0);
    expect(refused).toMatchObject({ kind: "refuse", error: { code: "buffer_full", seq: 1 } });
    expect(retryOf(refused)).toBe(1_100); // the first in line: a flush due in 1,000 ms, plus 100 ms
    expect(retryOf(a.admit(frame("r3", 1, 11), PRINT, 0))).toBe(1_111); // then 11 samples at 1 ms each
    a.drained(); // committed: 40 free in the (fake) buffer of 60
    // 40 free, 22 of it for the two frames in line: a newcomer of 30 queues up behind them.
    expect(a.admit(frame("r4", 1, 30), PRINT, 500)).toMatchObject({ kind: "refuse" });
    // A frame in line that finds room for itself and those ahead of it is stored, even before its turn.
    expect(a.admit(frame("r2", 1, 11), PRINT, 500)).toEqual({ kind: "store" });
  });

  it("refuses unparsed a frame that finds no room once the frames ahead of it have theirs", () => {
    const a = admission(90);
    const text = (relay: string, seq: number, count: number) => JSON.stringify(frameText(relay, seq, count));
    expect(a.refuseUnparsed(text("r1", 1, 20), 0)).toBeNull(); // nobody was refused yet: parse it
    expect(a.admit(frame("r1", 1, 20), PRINT, 0).kind).toBe("refuse"); // 10 free
    // Behind r1's 20 samples there is no room: refused from the head, small or not.
    expect(a.refuseUnparsed(text("r9", 1, 20), 10)).toMatchObject({ code: "buffer_full", seq: 1 });
    expect(a.refuseUnparsed(text("r9", 2, 1), 10)).toMatchObject({ code: "buffer_full", seq: 2 });
    expect(a.refuseUnparsed(text("r1", 1, 20), 10)).toBeNull(); // first in line, 10 free: parsed (then refused)
    expect(admission(100).refuseUnparsed(text("r1", 2, 1), 0)).toMatchObject({ code: "buffer_full" }); // full
    expect(admission(100, { r1: [2] }).refuseUnparsed(text("r1", 2, 1), 0)).toBeNull(); // a duplicate is acked
  });

  it("stretches the retry hint with the refused work ahead, keeping each frame's place, up to 30 s", () => {
    // Frames of 50 samples at 20 ms per flushed sample: each frame in line before this one adds 1,000 ms.
    const a = new Admission(
      config,
      () => noSeqs,
      () => 100,
      pace(20),
    );
    const hints = Array.from({ length: 40 }, (_, i) => retryOf(a.admit(frame(`r${i}`, 1, 50), PRINT, 0)));
    for (const [i, hint] of hints.slice(0, 28).entries()) {
      expect(hint).toBeGreaterThanOrEqual(1_100 + i * 1_000);
      expect(hint).toBeLessThanOrEqual((1_100 + i * 1_000) * 1.1);
    }
    expect(Math.max(...hints)).toBe(30_000);
    // A frame back before its turn keeps its place: told the rest of the wait, not a later turn.
    const again = retryOf(a.admit(frame("r5", 1, 50), PRINT, 1_000));
    expect(again).toBeGreaterThanOrEqual(6_100 - 1_000);
    expect(again).toBeLessThanOrEqual((6_100 - 1_000) * 1.1);
    // The last frames were told 30 s, but their places are further on: back at 30 s, they wait on.
    expect(retryOf(a.admit(frame("r39", 1, 50), PRINT, 30_000))).toBeGreaterThanOrEqual(40_100 - 30_000);
  });

  it("keeps room for the frames ahead in line: a newcomer takes only what is left", () => {
    let size = 70;
    const a = new Admission(
      config,
      () => noSeqs,
      () => size,
      pace(),
    );
    expect(a.admit(frame("first", 1, 40), PRINT, 0).kind).toBe("refuse"); // 30 free: in line, turn at 1,100
    size = 50; // the flush made room
    // Before first's turn, a newcomer may take free room; once it came, first's 40 samples are kept for it.
    expect(a.admit(frame("early", 1, 5), PRINT, 1_000)).toEqual({ kind: "store" });
    a.drained();
    expect(a.admit(frame("late", 1, 20), PRINT, 1_150)).toMatchObject({ error: { code: "buffer_full" } });
    expect(a.admit(frame("first", 1, 40), PRINT, 1_150)).toEqual({ kind: "store" });
  });

  it("lets every relay make progress: 50 relays × 8 frames in flight of max-size frames", () => {
    // A deterministic run: the flush moves 160 samples every 100 ms (1.6 frames); relays resend a refused frame
    // after its retry_after_ms and send a new one as soon as one is acked, as relays do.
    const cap = { bufferCapacity: 1_000, maxSamplesPerFrame: 100 } as Config;
    const fifo: number[] = [];
    let size = 0;
    const a = new Admission(
      cap,
      () => noSeqs,
      () => size,
      { dueInMs: () => 100, msPerSample: () => 100 / 160 },
    );
    const relays = Array.from({ length: 50 }, (_, i) => `r${i}`);
    const acked = new Map(relays.map((r) => [r, 0]));
    const nextSeq = new Map(relays.map((r) => [r, 9]));
    let sends = relays.flatMap((relay) =>
      Array.from({ length: 8 }, (_, w) => ({ at: 0, relay, seq: w + 1 })),
    );
    let refusals = 0;
    for (let now = 0; now < 60_000; now++) {
      if (now % 100 === 0) {
        let room = 160;
        while (room > 0 && fifo.length > 0) {
          const moved = Math.min(room, fifo[0] as number);
          room -= moved;
          size -= moved;
          if (moved === fifo[0]) fifo.shift();
          else fifo[0] = (fifo[0] as number) - moved;
        }
      }
      const due = sends.filter((s) => s.at <= now);
      if (due.length === 0) continue;
      sends = sends.filter((s) => s.at > now);
      for (const send of due) {
        const d = a.admit(frame(send.relay, send.seq, 100), PRINT, now);
        a.drained();
        if (d.kind === "store") {
          fifo.push(100);
          size += 100;
          acked.set(send.relay, (acked.get(send.relay) ?? 0) + 1);
          const seq = nextSeq.get(send.relay) ?? 0;
          nextSeq.set(send.relay, seq + 1);
          sends.push({ at: now + 1, relay: send.relay, seq });
        } else {
          refusals++;
          sends.push({ at: now + retryOf(d), relay: send.relay, seq: send.seq });
        }
      }
    }
    const counts = [...acked.values()];
    const stored = counts.reduce((x, y) => x + y, 0);
    // The flush can move 960 frames in 60 s: the line kept the buffer fed, and every relay got its share (the
    // spread is the first relays' frames that found an empty buffer at the start, before anyone waited).
    expect(stored).toBeGreaterThan(930);
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(0.8 * (stored / relays.length));
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(10);
    // A refused frame comes back at its turn, not in a flood: about one refusal per stored frame.
    expect(refusals / stored).toBeLessThan(2);
  });
});
