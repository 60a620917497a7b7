// Size and speed of the Storage v2 chunk codec (src/storage/chunk/chunk-codec.ts) on three shapes of sensor data,
// printed as a markdown table. Run: `node tools/bench/chunk-size.ts` (Node 22); `chunkSizeTable()` is exported
// for `npm run bench`. Data comes from a seeded generator, so sizes are the same on every run. Timings are
// Node's (inside workerd the clocks only advance across I/O); Node's CompressionStream costs a few hundred µs
// per stream, which dominates small chunks.
import "../lib/src-imports.ts";
import { pathToFileURL } from "node:url";
import { gaussian, prng, T0 } from "./data-shapes.ts";

const { decodeChunk, encodeChunk } = await import("../../src/storage/chunk/chunk-codec.ts");
type ChunkSample = import("../../src/storage/chunk/chunk-codec.ts").ChunkSample;

/**
 * Estimated bytes of one chunk row besides its blob: four id/channel texts (~50 B), seq and t bounds, count and
 * five REAL stats (~70 B), SQLite record and cell headers (~25 B), and primary-key and time index entries
 * repeating the key (~110 B). Spread over the chunk's samples in the "on disk" column.
 */
export const ROW_OVERHEAD_BYTES = 256;
export const CHUNK_SIZES = [120, 1000, 4000] as const;
/** One channel's samples as the flush sees them: `perFrame` of them in each frame, at idx offset + k*stride. */
function frames(n: number, perFrame: number, stride: number, at: (i: number) => { t: number; v: number }) {
  const out: ChunkSample[] = [];
  for (let i = 0; i < n; i++) {
    out.push({ seq: 1000 + Math.floor(i / perFrame), idx: (i % perFrame) * stride, ...at(i) });
  }
  return out;
}

/** The data shapes: what a relay sends for one channel. */
export const SHAPES: { name: string; make: (n: number) => ChunkSample[] }[] = [
  {
    // A step counter read once a second (±1 ms), 100 readings per frame: small non-negative increments.
    name: "integer counts (step counter, 1 Hz)",
    make: (n) => {
      const rand = prng(1);
      let steps = 52_000;
      return frames(n, 100, 1, (i) => {
        steps += Math.floor(rand() * rand() * 4);
        return { t: T0 + 1000 * i + Math.floor(rand() * 3) - 1, v: steps };
      });
    },
  },
  {
    // One axis of a 50 Hz accelerometer in m/s², 3 decimals, timestamps jittering ±1 ms; frames carry the
    // three axes interleaved (33 samples of this axis per frame, idx 0, 3, 6, …).
    name: "decimal readings (accelerometer, 50 Hz, 3 decimals)",
    make: (n) => {
      const rand = prng(2);
      return frames(n, 33, 3, (i) => {
        const ms2 = 9.81 * Math.cos(i / 500) + 0.3 * Math.sin(i / 25) + 0.02 * gaussian(rand);
        return { t: T0 + 20 * i + Math.floor(rand() * 3) - 1, v: Math.round(ms2 * 1000) / 1000 };
      });
    },
  },
  {
    // Full-precision noisy doubles at 10 Hz: no codec gets these much below 8 bytes.
    name: "noisy full-precision doubles (10 Hz)",
    make: (n) => {
      const rand = prng(3);
      return frames(n, 100, 1, (i) => ({ t: T0 + 100 * i, v: 20 + 5 * gaussian(rand) }));
    },
  },
];

export interface ChunkSizeFigure {
  shape: string;
  samples: number;
  blobBytes: number;
  encodeUsPerSample: number;
  decodeUsPerSample: number;
}

/** µs per sample of `run` over a chunk of `samples`: the best of 5 rounds, so a busy machine skews it less. */
async function timeUs(samples: number, run: () => Promise<unknown>): Promise<number> {
  const reps = Math.max(3, Math.ceil(20_000 / samples));
  await run(); // warm-up
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 5; round++) {
    const start = performance.now();
    for (let i = 0; i < reps; i++) await run();
    best = Math.min(best, ((performance.now() - start) * 1000) / (reps * samples));
  }
  return best;
}

export async function measureChunkSizes(): Promise<ChunkSizeFigure[]> {
  const figures: ChunkSizeFigure[] = [];
  for (const shape of SHAPES) {
    for (const n of CHUNK_SIZES) {
      const samples = shape.make(n);
      const blob = await encodeChunk(samples);
      const back = await decodeChunk(blob);
      if (back.length !== n || back.some((s, i) => !Object.is(s.v, samples[i]?.v) || s.t !== samples[i]?.t)) {
        throw new Error(`chunk codec did not round-trip ${shape.name} at ${n} samples`);
      }
      figures.push({
        shape: shape.name,
        samples: n,
        blobBytes: blob.length,
        encodeUsPerSample: await timeUs(n, () => encodeChunk(samples)),
        decodeUsPerSample: await timeUs(n, () => decodeChunk(blob)),
      });
    }
  }
  return figures;
}

/** The figures as a markdown table. */
export async function chunkSizeTable(): Promise<string> {
  const rows = (await measureChunkSizes()).map((f) => [
    f.shape,
    f.samples.toLocaleString("en-US"),
    f.blobBytes.toLocaleString("en-US"),
    (f.blobBytes / f.samples).toFixed(2),
    ((f.blobBytes + ROW_OVERHEAD_BYTES) / f.samples).toFixed(2),
    f.encodeUsPerSample.toFixed(2),
    f.decodeUsPerSample.toFixed(2),
  ]);
  const header = [
    "data",
    "samples/chunk",
    "blob bytes",
    "blob B/sample",
    `on disk B/sample (+${ROW_OVERHEAD_BYTES} B row, est.)`,
    "encode µs/sample",
    "decode µs/sample",
  ];
  return [
    `| ${header.join(" | ")} |`,
    `|${header.map(() => "---").join("|")}|`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  console.log(await chunkSizeTable());
}
