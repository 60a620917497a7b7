import type { ChunkSample } from "./chunk-sample";

/** Plain-column statistics of a chunk (stored beside the blob so range reads and downsampling can skip decoding). */
export interface ChunkStats {
  count: number;
  tMin: number;
  tMax: number;
  /** Smallest / largest v (-0 counts as below +0, as in Math.min). */
  min: number;
  max: number;
  /** v summed in chunk order (IEEE addition: may overflow to ±Infinity for values near ±1.8e308). */
  sum: number;
  /**
   * v of the first / last sample in read order (t, then chunk order): the smallest t's earliest sample and the
   * largest t's latest one.
   */
  first: number;
  last: number;
}

/** Statistics of a non-empty chunk. */
export function chunkStats(samples: readonly ChunkSample[]): ChunkStats {
  const s0 = samples[0];
  if (!s0) throw new RangeError("chunkStats: a chunk holds at least one sample");
  let { t: tMin, t: tMax, v: min, v: max, v: first, v: last } = s0;
  let sum = 0;
  for (const { t, v } of samples) {
    if (t < tMin) {
      tMin = t;
      first = v;
    }
    if (t >= tMax) {
      tMax = t;
      last = v;
    }
    min = Math.min(min, v);
    max = Math.max(max, v);
    sum += v;
  }
  return { count: samples.length, tMin, tMax, min, max, sum, first, last };
}
