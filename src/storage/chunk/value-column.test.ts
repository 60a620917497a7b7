import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { expectRefused } from "../../../test/support/column-bytes";
import { ByteReader, type ByteWriter } from "./byte-io";
import { decimalScaling, readValueColumn, ValueMode, writeValueColumn } from "./value-column";

const MAX = Number.MAX_SAFE_INTEGER;

/** The value column read back alone and to its last byte. */
function readBack(vs: number[]): number[] {
  const r = new ByteReader(writeValueColumn(vs));
  const back = readValueColumn(r, vs.length);
  expect(r.remaining).toBe(0);
  return back;
}

/** Same values bit for bit (-0 is not 0). */
const sameBits = (got: number[], want: number[]) =>
  got.length === want.length && got.every((v, i) => Object.is(v, want[i]));

const series = (v: fc.Arbitrary<number>) => fc.array(v, { minLength: 1, maxLength: 80 });
const edgeV = fc.constantFrom(-0, 0, 5e-324, -5e-324, 2.2250738585072014e-308, Number.MAX_VALUE, MAX, -MAX);
const valueSeries = fc.oneof(
  series(fc.integer({ min: -1_000, max: 1_000_000 })),
  fc
    .record({
      k: fc.integer({ min: 1, max: 6 }),
      xs: series(fc.double({ min: -1e4, max: 1e4, noNaN: true })),
    })
    .map(({ k, xs }) => xs.map((x) => Math.round(x * 10 ** k) / 10 ** k)),
  series(fc.double({ noNaN: true, noDefaultInfinity: true })),
  series(fc.oneof(fc.integer({ min: -MAX, max: MAX }), edgeV)),
);

describe("value column", () => {
  it("reads back every finite series bit for bit, in whichever mode it was written", () => {
    fc.assert(
      fc.property(valueSeries, (vs) => {
        expect(sameBits(readBack(vs), vs)).toBe(true);
      }),
    );
  });

  it("stores decimals as scaled integers with the smallest k, few distinct doubles as float64, others as planes", () => {
    expect(decimalScaling([72.5, 72.6, 72.4])).toEqual({ k: 1, ms: [725, 726, 724] });
    expect(decimalScaling([3, -4])).toEqual({ k: 0, ms: [3, -4] });
    expect(decimalScaling([0.1 + 0.2])).toBeNull();
    expect(decimalScaling([-0])).toBeNull(); // m / 10^k never gives -0 back
    expect(decimalScaling([1e-7])).toBeNull(); // past 6 digits
    expect([...writeValueColumn([72.5, 72.6, 72.4])]).toEqual([
      ValueMode.decimalDelta,
      1,
      0xaa,
      0x0b,
      0x02,
      0x03,
    ]);
    const planes = writeValueColumn([-0, 1.5e300]);
    expect(planes[0]).toBe(ValueMode.float64Planes);
    // Plane 0 holds each value's most significant byte: -0 is 0x80, 1.5e300 is 0x7e.
    expect([...planes.subarray(1, 3)]).toEqual([0x80, 0x7e]);
    const twoValues = Array.from({ length: 16 }, (_, i) => (i % 2 ? Math.PI : Math.E));
    expect(writeValueColumn(twoValues)[0]).toBe(ValueMode.float64);
    const noisy = Array.from({ length: 16 }, (_, i) => Math.PI * i + 1 / 3);
    expect(writeValueColumn(noisy)[0]).toBe(ValueMode.float64Planes);
  });

  it("takes plain scaled integers when their bytes are more regular than the deltas", () => {
    const alternating = Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? 1 : 1000));
    expect(writeValueColumn(alternating)[0]).toBe(ValueMode.decimal);
  });

  it.each<[string, (w: ByteWriter) => void, number, RegExp]>([
    ["an unknown mode", (w) => w.u8(4), 1, /value column: unknown mode 4/],
    [
      "more than 6 decimal digits",
      (w) => {
        w.u8(ValueMode.decimal);
        w.u8(7);
        w.svarint(1);
      },
      1,
      /digits 7 > 6/,
    ],
    [
      "a scaled value past 2^53 - 1",
      (w) => {
        w.u8(ValueMode.decimalDelta);
        w.u8(0);
        w.svarint(MAX);
        w.svarint(1);
      },
      2,
      /sample 1 is out of range/,
    ],
    [
      "a NaN",
      (w) => {
        w.u8(ValueMode.float64);
        w.bytes(new Uint8Array([0, 0, 0, 0, 0, 0, 0xf8, 0x7f]));
      },
      1,
      /sample 0 is NaN, not finite/,
    ],
    [
      "an infinity in byte planes",
      (w) => {
        w.u8(ValueMode.float64Planes);
        w.bytes(new Uint8Array([0xff, 0xf0, 0, 0, 0, 0, 0, 0]));
      },
      1,
      /sample 0 is -Infinity, not finite/,
    ],
    [
      "cut-short floats",
      (w) => {
        w.u8(ValueMode.float64);
        w.bytes(new Uint8Array(12));
      },
      2,
      /needs 16 byte/,
    ],
  ])("refuses %s", (_, write, count, message) => {
    expectRefused(write, (r) => readValueColumn(r, count), message);
  });
});
