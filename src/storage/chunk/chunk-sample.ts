/** One stored sample of a chunk; a chunk belongs to one (user, relay, session, channel). */
export interface ChunkSample {
  seq: number;
  idx: number;
  t: number;
  v: number;
}

/** At most this many samples in one chunk: a decoder refuses a header claiming more before allocating. */
export const MAX_CHUNK_SAMPLES = 65_536;
/** idx is a sample's position in its frame; frames carry far fewer than this many samples. */
export const MAX_IDX = 999_999;

/**
 * Why `samples` cannot be encoded, or null. Chunk order is acceptance order: (seq, idx) strictly ascending.
 * Encoding checks this so that a decoded chunk can be trusted to be in that order too.
 */
export function invalidChunkSamples(samples: readonly ChunkSample[]): string | null {
  if (samples.length === 0) return "a chunk holds at least one sample";
  if (samples.length > MAX_CHUNK_SAMPLES)
    return `a chunk holds at most ${MAX_CHUNK_SAMPLES} samples, got ${samples.length}`;
  let prev: ChunkSample | undefined;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i] as ChunkSample;
    if (!Number.isSafeInteger(s.seq) || s.seq < 1)
      return `samples[${i}].seq must be a positive safe integer, got ${s.seq}`;
    if (!Number.isInteger(s.idx) || s.idx < 0 || s.idx > MAX_IDX) {
      return `samples[${i}].idx must be an integer in 0..${MAX_IDX}, got ${s.idx}`;
    }
    if (!Number.isSafeInteger(s.t) || s.t < 0)
      return `samples[${i}].t must be a non-negative safe integer, got ${s.t}`;
    if (typeof s.v !== "number" || !Number.isFinite(s.v))
      return `samples[${i}].v must be a finite number, got ${s.v}`;
    if (prev && (s.seq < prev.seq || (s.seq === prev.seq && s.idx <= prev.idx))) {
      return `samples[${i}] (seq ${s.seq}, idx ${s.idx}) does not follow (seq ${prev.seq}, idx ${prev.idx}): chunk order is (seq, idx) strictly ascending`;
    }
    prev = s;
  }
  return null;
}
