import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_EPOCH_MS } from "../../protocol/ids";
import { decodeFrameColumnBlocks, decodeFrameColumns, encodeFrameColumns } from "./frame-columns";

const sample = fc.record({
  t: fc.integer({ min: 0, max: MAX_EPOCH_MS }),
  ch: fc.oneof(fc.constantFrom("a", "x", "acc.z"), fc.stringMatching(/^[A-Za-z0-9_.-]{1,64}$/)),
  v: fc.double({ noNaN: true, noDefaultInfinity: true }),
});

describe("frame columns (the buffer's flush form)", () => {
  it("read back every sample's t, channel and value bit for bit, -0 included", () => {
    fc.assert(
      fc.property(fc.array(sample, { maxLength: 300 }), (samples) => {
        const { channels, t, v, ch } = decodeFrameColumns(encodeFrameColumns(samples));
        expect(new Set(channels).size).toBe(channels.length);
        samples.forEach((s, i) => {
          expect(t[i]).toBe(s.t);
          expect(Object.is(v[i], s.v)).toBe(true);
          expect(channels[ch[i] as number]).toBe(s.ch);
        });
        expect(t.length).toBe(samples.length);
      }),
    );
  });

  it("read frames' blocks written one after the other (a buffer row) each as written alone", () => {
    fc.assert(
      fc.property(fc.array(fc.array(sample, { minLength: 1, maxLength: 40 }), { maxLength: 8 }), (frames) => {
        const blocks = frames.map((f) => encodeFrameColumns(f));
        const row = new Uint8Array(blocks.reduce((sum, b) => sum + b.length, 0));
        let at = 0;
        for (const b of blocks) {
          row.set(b, at);
          at += b.length;
        }
        expect(decodeFrameColumnBlocks(row)).toEqual(blocks.map((b) => decodeFrameColumns(b)));
      }),
    );
    const one = encodeFrameColumns([{ t: 1, ch: "a", v: 1 }]);
    expect(() => decodeFrameColumnBlocks(one.subarray(0, one.length - 2))).toThrow(/expected for 1 samples/);
  });

  it("read from an unaligned copy as from the original", () => {
    const bytes = encodeFrameColumns([
      { t: 1, ch: "abc", v: 0.1 },
      { t: 2, ch: "d", v: -3 },
    ]);
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    expect(decodeFrameColumns(shifted.subarray(3))).toEqual(decodeFrameColumns(bytes));
  });

  it("refuse bytes of the wrong length or naming a channel that is not there", () => {
    const bytes = encodeFrameColumns([{ t: 1, ch: "a", v: 1 }]);
    expect(() => decodeFrameColumns(bytes.subarray(0, bytes.length - 1))).toThrow(/bytes, \d+ expected/);
    const wrong = bytes.slice();
    new DataView(wrong.buffer).setUint32(wrong.length - 4, 7, true);
    expect(() => decodeFrameColumns(wrong)).toThrow(/names channel 7 of 1/);
  });

  it("keep a channel per sample past 65,536 of them", () => {
    const samples = Array.from({ length: 70_000 }, (_, i) => ({ t: i, ch: `c${i}`, v: i }));
    const { channels, ch } = decodeFrameColumns(encodeFrameColumns(samples));
    expect(channels[ch[69_999] as number]).toBe("c69999");
  });
});
