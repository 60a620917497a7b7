import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ByteReader, ByteWriter } from "./byte-io";
import { ChunkDecodeError } from "./chunk-decode-error";

const MAX = Number.MAX_SAFE_INTEGER;
const safe = fc.oneof(
  fc.integer({ min: -MAX, max: MAX }),
  fc.integer({ min: -300, max: 300 }),
  fc.constantFrom(
    0,
    1,
    -1,
    MAX,
    -MAX,
    MAX - 1,
    2 ** 52,
    -(2 ** 52),
    2 ** 52 + 1,
    2 ** 31,
    -(2 ** 31),
    2 ** 31 - 1,
  ),
);

describe("varints", () => {
  it("unsigned varints of every safe magnitude round-trip", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.nat({ max: MAX }), fc.nat({ max: 1000 }))), (xs) => {
        const w = new ByteWriter(4);
        for (const x of xs) w.uvarint(x);
        const r = new ByteReader(w.finish());
        for (const x of xs) expect(r.uvarint("x", 0, MAX)).toBe(x);
        expect(r.remaining).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it("differences of safe integers (up to 2^54 - 2, past what a number holds) come back exact", () => {
    fc.assert(
      fc.property(safe, safe, (a, b) => {
        const w = new ByteWriter(4);
        w.svarintDiff(a, b);
        w.svarint(a);
        const r = new ByteReader(w.finish());
        expect(r.addSvarint(b, "diff", -MAX, MAX)).toBe(a);
        expect(r.addSvarint(0, "x", -MAX, MAX)).toBe(a);
        expect(r.remaining).toBe(0);
      }),
      { numRuns: 500 },
    );
  });

  it("a sum outside the allowed range is refused, also when the difference is a BigInt", () => {
    const w = new ByteWriter();
    w.svarintDiff(MAX, -MAX);
    w.svarint(1);
    const bytes = w.finish();
    expect(() => new ByteReader(bytes).addSvarint(0, "wide", -MAX, MAX)).toThrow(ChunkDecodeError);
    const r = new ByteReader(bytes);
    expect(r.addSvarint(-MAX, "wide", -MAX, MAX)).toBe(MAX);
    expect(() => r.addSvarint(MAX, "step", -MAX, MAX)).toThrow(/step is out of range/);
  });
});
