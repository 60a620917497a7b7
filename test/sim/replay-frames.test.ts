import { describe, expect, it } from "vitest";
import type { ReplayRow } from "../../tools/sim/replay-csv.ts";
import { ReplayFrames } from "../../tools/sim/replay-frames.ts";

const CHANNELS = ["x", "y", "n"];

/** Rows every `stepMs` from t0, values (i, -i/1000, empty on odd rows). */
function rows(count: number, stepMs = 20, t0 = 1_763_700_000_000): ReplayRow[] {
  return Array.from({ length: count }, (_, i) => ({
    line: i + 2,
    t: t0 + i * stepMs,
    values: [i, -i / 1000, i % 2 ? undefined : i * 3],
  }));
}

async function* stream(list: ReplayRow[]): AsyncGenerator<ReplayRow> {
  yield* list;
}

/** Reads `list` whole (the read-ahead holds it all) and starts the clock at 0. */
async function framesOf(list: ReplayRow[], samplesPerFrame: number, speed: number | null) {
  const frames = new ReplayFrames({ channels: CHANNELS, samplesPerFrame, speed });
  await frames.read(stream(list), () => {});
  frames.start(0);
  return frames;
}

/** Takes every frame regardless of time, with seqs from 1. */
function drain(frames: ReplayFrames) {
  const out: Array<{ seq: number; samples: Array<{ t: number; ch: string; v: number }> }> = [];
  for (let seq = 1; ; seq++) {
    const frame = frames.next(Number.POSITIVE_INFINITY, seq);
    if (!frame) return out;
    const samples = JSON.parse(`[${frame.samplesJson}]`);
    expect(samples).toHaveLength(frame.samples);
    out.push({ seq, samples });
  }
}

describe("ReplayFrames", () => {
  it("cuts the rows into frames of at most samplesPerFrame samples, in file order, as valid JSON", async () => {
    const list = rows(10); // 25 samples
    const frames = await framesOf(list, 4, null);
    const sent = drain(frames);
    expect(sent.map((f) => f.samples.length)).toEqual([4, 4, 4, 4, 4, 4, 1]);
    const expected = list.flatMap((r) =>
      r.values.flatMap((v, i) => (v === undefined ? [] : [{ t: r.t, ch: CHANNELS[i], v }])),
    );
    expect(sent.flatMap((f) => f.samples)).toEqual(expected);
    expect(frames.more).toBe(false);
    expect(frames.samplesSent).toBe(25);
    expect(frames.lastLineSent).toBe(11);
  });

  it("remembers each frame's samples by the seq it was sent with", async () => {
    const frames = await framesOf(rows(4), 3, null);
    frames.next(0, 7);
    frames.next(0, 9);
    expect([...frames.sent.keys()]).toEqual([7, 9]);
    const second = frames.sent.get(9);
    // Row 0 is (x 0, y -0, n 0); row 1 (x 1, y -0.001); row 2 (x 2, ...): the second frame ends inside row 2.
    expect([...(second?.t ?? [])]).toEqual([1_763_700_000_020, 1_763_700_000_020, 1_763_700_000_040]);
    expect([...(second?.ch ?? [])]).toEqual([0, 1, 0]);
    expect([...(second?.v ?? [])]).toEqual([1, -0.001, 2]);
  });

  it("writes every float64 so that JSON.parse gives back the same bits, -0 included", async () => {
    const values = [-0, 5e-324, Number.MAX_VALUE, 0.1 + 0.2, -1e21, 2 ** 53 + 2];
    const frames = await framesOf(
      [
        { line: 2, t: 1, values: [values[0], values[1], values[2]] },
        { line: 3, t: 2, values: values.slice(3) },
      ],
      100,
      null,
    );
    const [frame] = drain(frames);
    const parsed = frame?.samples.map((s) => s.v) ?? [];
    expect(parsed).toHaveLength(values.length);
    for (const [i, v] of values.entries()) expect(Object.is(parsed[i], v), String(v)).toBe(true);
  });

  it("makes each frame due when its last row's time has come at the given speed", async () => {
    // 100 rows 20 ms apart (1.98 s of recording); 50 samples per frame = 20 rows (x, y, n every other row).
    const frames = await framesOf(rows(100), 50, 2);
    // The first frame is rows 0-19: due when row 19 (380 ms of recording) has come, at 190 ms.
    expect(frames.dueIn(0)).toBe(190);
    expect(frames.next(189, 1)).toBeNull();
    expect(frames.next(190, 1)?.samples).toBe(50);
    // The second frame's last row is row 39 (780 ms of recording): due at 390 ms.
    expect(frames.dueIn(190)).toBe(200);
    expect(frames.next(389, 2)).toBeNull();
    expect(frames.next(390, 2)?.samples).toBe(50);
  });

  it("follows the latest time seen: rows that go back in time are sent with the frame they are in", async () => {
    const list: ReplayRow[] = [
      { line: 2, t: 1_000, values: [1, 1, 1] },
      { line: 3, t: 3_000, values: [2, 2, 2] },
      { line: 4, t: 2_000, values: [3, 3, 3] }, // goes back: its clock stays at 2 s
      { line: 5, t: 5_000, values: [4, 4, 4] },
    ];
    const frames = await framesOf(list, 3, 1);
    expect(frames.next(0, 1)).not.toBeNull(); // row 2 at 0 ms
    expect(frames.dueIn(0)).toBe(2_000); // row 3
    expect(frames.next(2_000, 2)).not.toBeNull();
    expect(frames.dueIn(2_000)).toBe(0); // row 4: back in time, due at once
    expect(frames.next(2_000, 3)).not.toBeNull();
    expect(frames.dueIn(2_000)).toBe(2_000); // row 5 at 4 s
  });

  it("at recorded speed ends a frame after a second of recording even when it has room", async () => {
    const frames = await framesOf(rows(200, 20), 10_000, 1); // 4 s of recording, 500 samples
    const sizes = drain(frames).map((f) => f.samples.length);
    // 50 rows per second; a row holds 3 or 2 samples.
    expect(sizes).toEqual([125, 125, 125, 125]);
  });

  it("as fast as acks allow, every frame is due at once and only the sample limit cuts them", async () => {
    const frames = await framesOf(rows(200, 20), 10_000, null);
    expect(frames.dueIn(0)).toBe(0);
    expect(drain(frames).map((f) => f.samples.length)).toEqual([500]);
  });

  it("reads ahead a bounded number of frames and goes on as they are taken", async () => {
    const frames = new ReplayFrames({ channels: CHANNELS, samplesPerFrame: 1, speed: null });
    let queued = 0;
    const reading = frames.read(stream(rows(400)), () => queued++); // 1,000 frames of one sample
    await new Promise((r) => setTimeout(r, 10));
    expect(queued).toBeLessThan(1_000);
    expect(frames.more).toBe(true);
    frames.start(0);
    let seq = 1;
    while (frames.more) {
      if (!frames.next(0, seq)) await new Promise((r) => setTimeout(r, 0));
      else seq++;
    }
    await reading;
    expect(seq - 1).toBe(1_000);
  });

  it("passes the reader's error on (a bad row found while streaming)", async () => {
    const frames = new ReplayFrames({ channels: CHANNELS, samplesPerFrame: 4, speed: null });
    async function* failing(): AsyncGenerator<ReplayRow> {
      yield* rows(3);
      throw new Error("line 5: bad");
    }
    await expect(frames.read(failing(), () => {})).rejects.toThrow("line 5: bad");
    frames.start(0);
    expect(drain(frames).length).toBe(1); // what was read before the error is still sent
    expect(frames.more).toBe(false);
  });
});
