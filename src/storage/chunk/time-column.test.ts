import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { expectRefused } from "../../../test/support/column-bytes";
import { ByteReader, ByteWriter } from "./byte-io";
import { readTimeColumn, TimeMode, writeTimeColumn } from "./time-column";

const MAX = Number.MAX_SAFE_INTEGER;

function written(ts: number[]): Uint8Array {
  const w = new ByteWriter(8);
  writeTimeColumn(w, ts);
  return w.finish();
}

function readBack(bytes: Uint8Array, count: number): number[] {
  const r = new ByteReader(bytes);
  const ts = readTimeColumn(r, count);
  expect(r.remaining).toBe(0);
  return ts;
}

const edgeT = fc.constantFrom(0, 1, MAX, MAX - 1, 2 ** 52, 2 ** 53 - 2);
/** Timelines as relays send them (a period with jitter) and as corruption might: any order, any jump. */
const timelines = fc.oneof(
  fc
    .record({
      t0: fc.integer({ min: 0, max: 2 ** 45 }),
      step: fc.constantFrom(0, 1, 20, 1000),
      jitter: fc.array(fc.integer({ min: -3, max: 3 }), { minLength: 1, maxLength: 200 }),
    })
    .map(({ t0, step, jitter }) => jitter.map((j, i) => Math.max(0, t0 + step * i + j))),
  fc.array(fc.oneof(fc.integer({ min: 0, max: MAX }), edgeT), { minLength: 1, maxLength: 60 }),
);

describe("time column", () => {
  it("reads back every timeline exactly, differences past 2^53 included", () => {
    fc.assert(
      fc.property(timelines, (ts) => {
        expect(readBack(written(ts), ts.length)).toEqual(ts);
      }),
    );
  });

  it("takes delta-of-delta for a regular 1 s clock (2-byte deltas) and plain deltas for a jittery 20 ms one", () => {
    const regular = Array.from({ length: 100 }, (_, i) => 1_763_700_000_000 + 1_000 * i);
    expect(written(regular)[0]).toBe(TimeMode.deltaOfDelta);
    let seed = 1; // a fixed pseudo-random ±1 ms jitter (Park–Miller), so the test is the same every run
    const jittery = regular.map((_, i) => {
      seed = (seed * 48_271) % 2_147_483_647;
      return 1_763_700_000_000 + 20 * i + (seed % 3) - 1;
    });
    expect(written(jittery)[0]).toBe(TimeMode.delta);
  });

  it("writes t₀ and zigzag steps: the largest swings are a delta-of-delta of ±(2^54 - 2)", () => {
    expect([...written([5])]).toEqual([TimeMode.delta, 5]);
    expect([...written([5, 4, 6])]).toEqual([TimeMode.delta, 5, 1, 4]);
    const swings = [0, MAX, 0, MAX];
    expect(readBack(written(swings), 4)).toEqual(swings);
  });

  it.each<[string, (w: ByteWriter) => void, number, RegExp]>([
    ["an unknown mode", (w) => w.u8(2), 1, /time column: unknown mode 2/],
    [
      "a first t past 2^53 - 1",
      (w) => {
        w.u8(0);
        w.bytes(new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]));
      },
      1,
      /first t is/,
    ],
    [
      "a t below 0",
      (w) => {
        w.u8(0);
        w.uvarint(5);
        w.svarint(-6);
      },
      2,
      /sample 1: t out of range 0\.\./,
    ],
    [
      "a t past 2^53 - 1",
      (w) => {
        w.u8(1);
        w.uvarint(MAX);
        w.svarint(1);
      },
      2,
      /sample 1: t out of range/,
    ],
    [
      "a cut-short column",
      (w) => {
        w.u8(0);
        w.uvarint(5);
      },
      2,
      /truncated: time column: sample 1/,
    ],
  ])("refuses %s", (_, write, count, message) => {
    expectRefused(write, (r) => readTimeColumn(r, count), message);
  });
});
