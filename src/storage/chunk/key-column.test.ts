import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { expectRefused } from "../../../test/support/column-bytes";
import { ByteReader, ByteWriter } from "./byte-io";
import { MAX_IDX } from "./chunk-sample";
import { readKeyColumn, writeKeyColumn } from "./key-column";

const MAX = Number.MAX_SAFE_INTEGER;

/** Bytes of the key column of these (seq, idx) pairs. */
function written(seqs: number[], idxs: number[]): Uint8Array {
  const w = new ByteWriter(8);
  writeKeyColumn(w, seqs, idxs);
  return w.finish();
}

function readBack(bytes: Uint8Array, count: number) {
  const r = new ByteReader(bytes);
  const keys = readKeyColumn(r, count);
  expect(r.remaining).toBe(0);
  return keys;
}

/** Strictly ascending (seq, idx) pairs: frames whose idx runs are regular or arbitrary, seq up to 2^53 - 1. */
const keyPairs = fc
  .record({
    top: fc.boolean(),
    frames: fc.array(
      fc.record({
        gap: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 2 ** 45 })),
        idxs: fc.oneof(
          fc
            .tuple(fc.nat(10), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 50 }))
            .map(([first, stride, n]) => Array.from({ length: n }, (_, k) => first + k * stride)),
          fc
            .uniqueArray(fc.integer({ min: 0, max: MAX_IDX }), { minLength: 1, maxLength: 20 })
            .map((xs) => xs.sort((a, b) => a - b)),
        ),
      }),
      { minLength: 1, maxLength: 20 },
    ),
  })
  .map(({ top, frames }) => {
    let seq = top ? MAX - frames.reduce((sum, f) => sum + f.gap, 0) : 0;
    const seqs: number[] = [];
    const idxs: number[] = [];
    for (const { gap, idxs: frame } of frames) {
      seq += gap;
      for (const idx of frame) {
        seqs.push(seq);
        idxs.push(idx);
      }
    }
    return { seqs, idxs };
  });

describe("key column", () => {
  it("reads back every strictly ascending (seq, idx) sequence exactly, to its last byte", () => {
    fc.assert(
      fc.property(keyPairs, ({ seqs, idxs }) => {
        expect(readBack(written(seqs, idxs), seqs.length)).toEqual({ seqs, idxs });
      }),
    );
  });

  it("spends four one-byte varints on a regular run, plus one per sample on an irregular one", () => {
    expect([...written([7, 7, 7], [0, 3, 6])]).toEqual([1, 7, 3, 0, 3]);
    expect([...written([7, 7, 7], [0, 1, 5])]).toEqual([1, 7, 3, 0, 0, 0, 3]);
    expect([...written([1], [MAX_IDX])]).toEqual([1, 1, 1, 0xbf, 0x84, 0x3d, 1]);
  });

  it("keeps the largest seq and idx", () => {
    const keys = { seqs: [MAX - 1, MAX], idxs: [MAX_IDX, 0] };
    expect(readBack(written(keys.seqs, keys.idxs), 2)).toEqual(keys);
  });

  it.each<[string, number[], number, RegExp]>([
    ["no run", [0], 1, /run count is 0, outside 1\.\.1/],
    ["a seq step of 0", [1, 0, 1, 0, 1], 1, /run 0: seq step is 0/],
    ["a run longer than the count", [1, 1, 3, 0, 1], 2, /run 0: length is 3, outside 1\.\.2/],
    ["a first idx past 999999", [1, 1, 1, 1_000_000, 1], 1, /first idx is 1000000/],
    ["a stride running past 999999", [1, 1, 2, MAX_IDX, 1], 2, /idx runs past 999999/],
    ["a gap running past 999999", [1, 1, 2, MAX_IDX, 0, 0], 2, /idx gap is 0, outside 0\.\.-1/],
    ["fewer samples than the count", [1, 1, 1, 0, 1], 2, /key column holds 1 samples, the header says 2/],
    ["a seq past 2^53 - 1", [2, MAX, 1, 0, 1, 1, 1, 0, 1], 2, /run 1: seq step is 1, outside 1\.\.0/],
  ])("refuses %s", (_, varints, count, message) => {
    const write = (w: ByteWriter) => {
      for (const x of varints) w.uvarint(x);
    };
    expectRefused(write, (r) => readKeyColumn(r, count), message);
  });
});
