import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ByteWriter } from "./byte-io";
import {
  CHUNK_FORMAT_VERSION,
  ChunkDecodeError,
  type ChunkSample,
  chunkStats,
  decodeChunk,
  encodeChunk,
  MAX_CHUNK_SAMPLES,
} from "./chunk-codec";
import { crc32 } from "./crc32";
import { deflateRaw } from "./deflate-raw";

const MAX = Number.MAX_SAFE_INTEGER;
const MAX_IDX = 999_999;

// ---- arbitraries: a chunk is frames (seq runs) of idx values, zipped with a timeline and a value series ----

/** idx values of one frame's samples of this channel: evenly spaced (the common case) or arbitrary ascending. */
const frameIdxs = fc.oneof(
  fc
    .record({
      first: fc.integer({ min: 0, max: 20 }),
      stride: fc.integer({ min: 1, max: 4 }),
      n: fc.integer({ min: 1, max: 120 }),
    })
    .map(({ first, stride, n }) => Array.from({ length: n }, (_, k) => first + k * stride)),
  fc
    .uniqueArray(fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: MAX_IDX })), {
      minLength: 1,
      maxLength: 40,
    })
    .map((xs) => xs.sort((a, b) => a - b)),
);

/** (seq, idx) keys in chunk order: many frames, seq steps of 1 or huge, starting low or right below 2^53. */
const keys = fc
  .record({
    frames: fc.array(
      fc.record({ gap: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 2 ** 40 })), idxs: frameIdxs }),
      {
        minLength: 1,
        maxLength: 30,
      },
    ),
    fromTop: fc.boolean(),
    start: fc.integer({ min: 1, max: 1_000_000 }),
  })
  .map(({ frames, fromTop, start }) => {
    const total = frames.reduce((s, f) => s + f.gap, 0);
    let seq = fromTop ? MAX - total : start - 1;
    const out: { seq: number; idx: number }[] = [];
    for (const f of frames) {
      seq += f.gap;
      for (const idx of f.idxs) out.push({ seq, idx });
    }
    return out;
  });

const extremeT = fc.constantFrom(0, 1, MAX, MAX - 1, 2 ** 52, 2 ** 53 - 2, 1_763_700_000_000);
const timeline = (n: number) =>
  fc.oneof(
    // A clock with a period and jitter: what relays send.
    fc
      .record({
        t0: fc.integer({ min: 0, max: 2 ** 45 }),
        step: fc.constantFrom(0, 1, 10, 20, 1000),
        jitter: fc.array(fc.integer({ min: -3, max: 3 }), { minLength: n, maxLength: n }),
      })
      .map(({ t0, step, jitter }) => jitter.map((j, i) => Math.max(0, t0 + step * i + j))),
    // Unsorted, repeated, and jumping across the whole safe range (differences up to 2^53, second ones 2^54).
    fc.array(fc.oneof(fc.integer({ min: 0, max: MAX }), extremeT, fc.integer({ min: 0, max: 50 })), {
      minLength: n,
      maxLength: n,
    }),
  );

const finiteDouble = fc.double({ noNaN: true, noDefaultInfinity: true });
const extremeV = fc.constantFrom(
  -0,
  0,
  5e-324,
  -5e-324,
  1e-310,
  2.2250738585072014e-308,
  1e308,
  -1e308,
  Number.MAX_VALUE,
  MAX,
  -MAX,
);
const values = (n: number) => {
  const series = (v: fc.Arbitrary<number>) => fc.array(v, { minLength: n, maxLength: n });
  return fc.oneof(
    series(fc.integer({ min: -1000, max: 1_000_000 })), // integer counts
    fc
      .record({
        k: fc.integer({ min: 1, max: 6 }),
        xs: series(fc.double({ min: -1e4, max: 1e4, noNaN: true })),
      })
      .map(({ k, xs }) => xs.map((x) => Math.round(x * 10 ** k) / 10 ** k)), // few-decimal readings
    series(fc.double({ min: -100, max: 100, noNaN: true })), // noisy doubles
    series(fc.oneof(extremeV, finiteDouble)), // huge and tiny magnitudes, -0, subnormals
    series(fc.oneof(fc.integer({ min: -MAX, max: MAX }), extremeV)), // big integers: value deltas past 2^53
  );
};

const chunks = keys.chain((ks) =>
  fc
    .tuple(timeline(ks.length), values(ks.length))
    .map(([ts, vs]): ChunkSample[] => ks.map((k, i) => ({ ...k, t: ts[i] as number, v: vs[i] as number }))),
);

/** The first difference between two chunks (v compared with Object.is), or null. */
function firstDifference(got: readonly ChunkSample[], want: readonly ChunkSample[]): string | null {
  if (got.length !== want.length) return `length ${got.length} != ${want.length}`;
  for (let i = 0; i < want.length; i++) {
    const g = got[i] as ChunkSample;
    const w = want[i] as ChunkSample;
    if (
      g.seq !== w.seq ||
      g.idx !== w.idx ||
      g.t !== w.t ||
      !Object.is(g.v, w.v) ||
      Object.keys(g).length !== 4
    ) {
      return `sample ${i}: got ${JSON.stringify(g)} (v ${Object.is(g.v, -0) ? "-0" : g.v}), want ${JSON.stringify(w)} (v ${Object.is(w.v, -0) ? "-0" : w.v})`;
    }
  }
  return null;
}

async function expectDecodeError(bytes: Uint8Array, message?: RegExp): Promise<void> {
  let result: unknown;
  try {
    result = await decodeChunk(bytes);
  } catch (err) {
    expect(err).toBeInstanceOf(ChunkDecodeError);
    if (message) expect((err as Error).message).toMatch(message);
    return;
  }
  expect.unreachable(`decodeChunk returned ${JSON.stringify(result)?.slice(0, 200)} instead of throwing`);
}

/** A blob with a valid header and checksum around an arbitrary body: reaches the column decoders' checks. */
async function blobAround(count: number, body: Uint8Array, bodyLength = body.length): Promise<Uint8Array> {
  const compressed = await deflateRaw(body);
  const w = new ByteWriter();
  w.u8(CHUNK_FORMAT_VERSION);
  w.uvarint(count);
  w.uvarint(bodyLength);
  w.uvarint(compressed.length);
  w.u32le(crc32(body));
  w.bytes(compressed);
  return w.finish();
}

const frame = (seq: number, n: number, t0 = 1_763_700_000_000): ChunkSample[] =>
  Array.from({ length: n }, (_, i) => ({
    seq,
    idx: i,
    t: t0 + 20 * i,
    v: Math.round(Math.sin(i) * 1000) / 1000,
  }));

describe("chunk codec round trip", () => {
  it("decode(encode(x)) is x, field for field and v bit for bit", async () => {
    await fc.assert(
      fc.asyncProperty(chunks, async (samples) => {
        const back = await decodeChunk(await encodeChunk(samples));
        const diff = firstDifference(back, samples);
        if (diff) throw new Error(diff);
      }),
      { numRuns: 300 },
    );
  });

  it("keeps -0, subnormals and the extremes of float64 and of the safe integers", async () => {
    const vs = [
      -0,
      0,
      5e-324,
      -5e-324,
      1e-310,
      1e308,
      -1e308,
      Number.MAX_VALUE,
      -Number.MAX_VALUE,
      MAX,
      -MAX,
      0.1,
      1 / 3,
    ];
    const samples = vs.map((v, i) => ({ seq: MAX - vs.length + i + 1, idx: MAX_IDX, t: i % 2 ? MAX : 0, v }));
    expect(firstDifference(await decodeChunk(await encodeChunk(samples)), samples)).toBeNull();
  });

  it("differences beyond 2^53 in t and in scaled values come back exact", async () => {
    const samples = [0, MAX, 0, MAX, 1, MAX - 1].map((t, i) => ({
      seq: 1,
      idx: i,
      t,
      v: i % 2 ? MAX : -MAX,
    }));
    expect(firstDifference(await decodeChunk(await encodeChunk(samples)), samples)).toBeNull();
  });

  it("decodes the largest chunk", async () => {
    const samples = frame(7, MAX_CHUNK_SAMPLES);
    expect(firstDifference(await decodeChunk(await encodeChunk(samples)), samples)).toBeNull();
  });

  it("stores sensor data compactly: integer counts and 3-decimal readings well under 3 bytes/sample", async () => {
    const counts: ChunkSample[] = [];
    const readings: ChunkSample[] = [];
    for (let i = 0; i < 1000; i++) {
      const seq = 1 + Math.floor(i / 100);
      counts.push({ seq, idx: i % 100, t: 1_763_700_000_000 + 1000 * i, v: 5000 + Math.floor(i * 1.7) });
      const v = Math.round((9.81 + 0.2 * Math.sin(i / 7) + 0.03 * Math.sin(i * 12.9898)) * 1000) / 1000;
      readings.push({ seq, idx: (i % 100) * 3, t: 1_763_700_000_000 + 20 * i + (i % 3) - 1, v });
    }
    expect((await encodeChunk(counts)).length / 1000).toBeLessThan(1);
    expect((await encodeChunk(readings)).length / 1000).toBeLessThan(2);
  });
});

describe("chunkStats", () => {
  it("matches a naive computation", () => {
    fc.assert(
      fc.property(chunks, (samples) => {
        const ts = samples.map((s) => s.t);
        const vs = samples.map((s) => s.v);
        const tMin = Math.min(...ts);
        const tMax = Math.max(...ts);
        const want = {
          count: samples.length,
          tMin,
          tMax,
          min: vs.reduce((a, b) => Math.min(a, b)),
          max: vs.reduce((a, b) => Math.max(a, b)),
          sum: vs.reduce((a, b) => a + b, 0),
          first: samples.find((s) => s.t === tMin)?.v,
          last: samples.findLast((s) => s.t === tMax)?.v,
        };
        const got = chunkStats(samples);
        for (const key of Object.keys(want) as (keyof typeof want)[]) {
          if (!Object.is(got[key], want[key])) throw new Error(`${key}: got ${got[key]}, want ${want[key]}`);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("refuses an empty chunk", () => {
    expect(() => chunkStats([])).toThrow(RangeError);
  });
});

describe("encodeChunk refuses what a chunk cannot hold", () => {
  const ok = { seq: 5, idx: 0, t: 1, v: 1 };
  it.each([
    ["no samples", [], /at least one sample/],
    ["seq 0", [{ ...ok, seq: 0 }], /seq must be a positive safe integer/],
    ["seq past 2^53", [{ ...ok, seq: 2 ** 53 }], /seq must be/],
    ["fractional idx", [{ ...ok, idx: 0.5 }], /idx must be an integer/],
    ["idx 10^6", [{ ...ok, idx: 1_000_000 }], /idx must be an integer in 0\.\.999999/],
    ["negative t", [{ ...ok, t: -1 }], /t must be a non-negative safe integer/],
    ["NaN v", [{ ...ok, v: Number.NaN }], /v must be a finite number/],
    ["infinite v", [{ ...ok, v: Number.POSITIVE_INFINITY }], /v must be a finite number/],
    ["a repeated key", [ok, ok], /samples\[1\].*strictly ascending/],
    ["keys out of order", [ok, { ...ok, seq: 4, idx: 9 }], /samples\[1\].*strictly ascending/],
  ])("%s", async (_, samples, message) => {
    await expect(encodeChunk(samples as ChunkSample[])).rejects.toThrow(message);
  });

  it("more than MAX_CHUNK_SAMPLES", async () => {
    await expect(encodeChunk(frame(1, MAX_CHUNK_SAMPLES + 1))).rejects.toThrow(/at most 65536 samples/);
  });
});

describe("decodeChunk refuses corrupt blobs", () => {
  const small = [...frame(41, 5), ...frame(42, 4), { seq: 44, idx: 7, t: 3, v: 1e-300 }];

  it("truncated at every byte offset", async () => {
    const blob = await encodeChunk(small);
    for (let cut = 0; cut < blob.length; cut++) await expectDecodeError(blob.subarray(0, cut));
  });

  it("any byte changed: an error, or (a flipped padding bit deflate ignores) exactly the original samples", async () => {
    const blob = await encodeChunk(small);
    let decoded = 0;
    for (let at = 0; at < blob.length; at++) {
      for (const mask of [0x01, 0x80, 0xff]) {
        const bad = blob.slice();
        bad[at] = (bad[at] as number) ^ mask;
        const result = await decodeChunk(bad).catch((err: unknown) => {
          expect(err).toBeInstanceOf(ChunkDecodeError);
          return null;
        });
        if (result) {
          decoded++;
          expect(firstDifference(result, small), `byte ${at} ^ ${mask}`).toBeNull();
        }
      }
    }
    expect(decoded).toBeLessThan(3); // at most the unused high bits of the last deflate byte
  });

  it("trailing garbage after the compressed body", async () => {
    const blob = await encodeChunk(small);
    await expectDecodeError(new Uint8Array([...blob, 0]), /1 bytes of trailing garbage/);
    await expectDecodeError(new Uint8Array([...blob, 3, 0, 0, 0, 0]), /5 bytes of trailing garbage/);
  });

  it("a wrong version byte", async () => {
    const blob = await encodeChunk(small);
    for (const version of [0, 2, 255]) {
      const bad = blob.slice();
      bad[0] = version;
      await expectDecodeError(bad, new RegExp(`unknown chunk format version ${version}`));
    }
  });

  it("a sample count of 10^9, or 0", async () => {
    const w = new ByteWriter();
    w.u8(CHUNK_FORMAT_VERSION);
    w.uvarint(1e9);
    w.uvarint(100);
    await expectDecodeError(w.finish(), /sample count is 1000000000, outside 1\.\.65536/);
    await expectDecodeError(
      new Uint8Array([CHUNK_FORMAT_VERSION, 0, 1, 1, 0, 0, 0, 0, 0]),
      /sample count is 0/,
    );
  });

  it("a body that inflates beyond what the header announced (a deflate bomb)", async () => {
    await expectDecodeError(
      await blobAround(1, new Uint8Array(4_000_000), 20),
      /inflates to more than the 20 bytes/,
    );
  });

  it("a body length larger than any chunk of that count could need", async () => {
    await expectDecodeError(await blobAround(1, new Uint8Array(200)), /body length is 200, outside 1\.\.104/);
  });

  it("an empty input and a non-byte input", async () => {
    await expectDecodeError(new Uint8Array(0), /truncated: header: version/);
    await expectDecodeError("abc" as unknown as Uint8Array, /not a byte array/);
  });

  // Bodies with a valid checksum but impossible content: what the column decoders check themselves.
  const body = (write: (w: ByteWriter) => void) => {
    const w = new ByteWriter();
    write(w);
    return w.finish();
  };
  /** One run of `n` samples: seq 1, idx 0..n-1. */
  const keys = (w: ByteWriter, n: number) => {
    for (const x of [1, 1, n, 0, 1]) w.uvarint(x);
  };
  /** Delta-mode times: `first`, then each following t differs by the given step. */
  const times = (w: ByteWriter, first: number, steps: number[]) => {
    w.u8(0);
    w.uvarint(first);
    for (const d of steps) w.svarint(d);
  };
  const keysAndTimes = (w: ByteWriter, n: number) => {
    keys(w, n);
    times(
      w,
      5,
      Array.from({ length: n - 1 }, () => 1),
    );
  };
  /** Decimal-delta values with k = 0: the first value, then differences. */
  const decimalDeltas = (w: ByteWriter, deltas: number[]) => {
    w.u8(0);
    w.u8(0);
    for (const d of deltas) w.svarint(d);
  };

  it.each<[string, number, (w: ByteWriter) => void, RegExp]>([
    [
      "fewer samples in the key column than the header says",
      3,
      (w) => keysAndTimes(w, 2),
      /key column holds 2 samples, the header says 3/,
    ],
    ["a run past the header's count", 2, (w) => keysAndTimes(w, 3), /run 0: length is 3, outside 1\.\.2/],
    [
      "seq past 2^53 - 1",
      2,
      (w) => {
        w.uvarint(2);
        for (const x of [MAX, 1, 0, 1, 1, 1, 0, 1]) w.uvarint(x);
      },
      /run 1: seq step is 1, outside 1\.\.0/,
    ],
    [
      "idx past 999999",
      2,
      (w) => {
        for (const x of [1, 1, 2, 999_999, 1]) w.uvarint(x);
      },
      /run 0: idx runs past 999999/,
    ],
    [
      "a non-minimal varint",
      1,
      (w) => {
        w.bytes(new Uint8Array([0x81, 0x00]));
      },
      /run count: varint at offset 0 is not minimal/,
    ],
    [
      "a varint longer than 9 bytes",
      1,
      (w) => {
        keys(w, 1);
        w.u8(0);
        w.bytes(new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x81, 0x01]));
      },
      /first t: varint longer than 9 bytes/,
    ],
    [
      "an unknown time mode",
      1,
      (w) => {
        keys(w, 1);
        w.u8(7);
      },
      /time column: unknown mode 7/,
    ],
    [
      "t below 0",
      2,
      (w) => {
        keys(w, 2);
        times(w, 5, [-6]);
      },
      /time column: sample 1: t out of range/,
    ],
    [
      "an unknown value mode",
      1,
      (w) => {
        keysAndTimes(w, 1);
        w.u8(9);
      },
      /value column: unknown mode 9/,
    ],
    [
      "more than 6 decimal digits",
      1,
      (w) => {
        keysAndTimes(w, 1);
        w.u8(0);
        w.u8(7);
        w.svarint(1);
      },
      /decimal digits 7 > 6/,
    ],
    [
      "a scaled value past 2^53",
      2,
      (w) => {
        keysAndTimes(w, 2);
        decimalDeltas(w, [MAX, 1]);
      },
      /value column: sample 1 is out of range/,
    ],
    [
      "a non-finite float",
      1,
      (w) => {
        keysAndTimes(w, 1);
        w.u8(2);
        w.bytes(new Uint8Array([0, 0, 0, 0, 0, 0, 0xf0, 0x7f]));
      },
      /value column: sample 0 is Infinity, not finite/,
    ],
    [
      "a value column cut short",
      2,
      (w) => {
        keysAndTimes(w, 2);
        w.u8(2);
        w.bytes(new Uint8Array(12));
      },
      /truncated: value column: float64 values needs 16 byte\(s\)/,
    ],
    [
      "garbage after the value column",
      1,
      (w) => {
        keysAndTimes(w, 1);
        decimalDeltas(w, [1]);
        w.u8(0);
      },
      /1 bytes of trailing garbage after the value column/,
    ],
  ])("%s", async (_, count, write, message) => {
    await expectDecodeError(await blobAround(count, body(write)), message);
  });

  it("the crafted bodies are otherwise well formed (a control for the cases above)", async () => {
    const back = await decodeChunk(
      await blobAround(
        2,
        body((w) => {
          keysAndTimes(w, 2);
          decimalDeltas(w, [7, -10]);
        }),
      ),
    );
    expect(back).toEqual([
      { seq: 1, idx: 0, t: 5, v: 7 },
      { seq: 1, idx: 1, t: 6, v: -3 },
    ]);
  });
});
