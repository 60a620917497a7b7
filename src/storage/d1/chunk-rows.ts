import { type ChunkSample, chunkStats, encodeChunk } from "../chunk/chunk-codec";

/** Samples per chunk at most: large enough to compress well, small enough to decode for a narrow read. */
export const MAX_SAMPLES_PER_CHUNK = 4_096;
/** The t range one chunk may span: readers find every chunk touching [from, to) by t_min in [from - span, to). */
export const MAX_CHUNK_SPAN_MS = 3_600_000;

/** One `sample_chunks` row (migrations/0002_sample_chunks.sql). */
export interface ChunkRow {
  relayId: string;
  sessionId: string;
  ch: string;
  firstSeq: number;
  firstIdx: number;
  n: number;
  tMin: number;
  tMax: number;
  vMin: number;
  vMax: number;
  vSum: number | null;
  vFirst: number;
  vLast: number;
  data: Uint8Array;
}

/**
 * The writer's input: samples of one frame, from sample `firstIdx` of the frame on, in columns (`ch[i]` is an
 * index into `channels`). The flush reads them from the object's buffer without parsing (frame-columns.ts).
 */
export interface FrameSlice {
  relayId: string;
  sessionId: string;
  seq: number;
  firstIdx: number;
  channels: readonly string[];
  t: Float64Array;
  v: Float64Array;
  ch: Uint32Array;
}

/**
 * The chunks of a flush selection: its samples grouped by (relay, session, channel), each group in (seq, idx)
 * order and cut at MAX_SAMPLES_PER_CHUNK samples or MAX_CHUNK_SPAN_MS of t. The same selection always gives the
 * same chunks, so a replayed flush writes the same keys.
 */
export async function chunkRows(slices: readonly FrameSlice[]): Promise<ChunkRow[]> {
  const groups = new Map<string, Group>();
  for (const { relayId, sessionId, seq, firstIdx, channels, t, v, ch } of slices) {
    // The slice's groups, found once per channel rather than once per sample.
    const own = new Array<ChunkSample[] | undefined>(channels.length);
    const groupOf = (k: number): ChunkSample[] => {
      const name = channels[k] as string;
      const key = `${relayId}\n${sessionId}\n${name}`;
      let group = groups.get(key);
      if (!group) {
        group = { relayId, sessionId, ch: name, samples: [] };
        groups.set(key, group);
      }
      own[k] = group.samples;
      return group.samples;
    };
    for (let i = 0; i < t.length; i++) {
      const k = ch[i] as number;
      (own[k] ?? groupOf(k)).push({ seq, idx: firstIdx + i, t: t[i] as number, v: v[i] as number });
    }
  }
  const rows: ChunkRow[] = [];
  for (const { relayId, sessionId, ch, samples } of groups.values()) {
    samples.sort((a, b) => a.seq - b.seq || a.idx - b.idx);
    for (const part of cut(samples)) rows.push(await chunkRow(relayId, sessionId, ch, part));
  }
  return rows;
}

interface Group {
  relayId: string;
  sessionId: string;
  ch: string;
  samples: ChunkSample[];
}

export async function chunkRow(
  relayId: string,
  sessionId: string,
  ch: string,
  samples: ChunkSample[],
): Promise<ChunkRow> {
  const stats = chunkStats(samples);
  const first = samples[0] as ChunkSample;
  return {
    relayId,
    sessionId,
    ch,
    firstSeq: first.seq,
    firstIdx: first.idx,
    n: stats.count,
    tMin: stats.tMin,
    tMax: stats.tMax,
    vMin: stats.min,
    vMax: stats.max,
    vSum: Number.isFinite(stats.sum) ? stats.sum : null,
    vFirst: stats.first,
    vLast: stats.last,
    data: await encodeChunk(samples),
  };
}

/** Consecutive runs of at most MAX_SAMPLES_PER_CHUNK samples spanning at most MAX_CHUNK_SPAN_MS. */
export function* cut(samples: ChunkSample[]): Generator<ChunkSample[]> {
  let start = 0;
  let tMin = Number.POSITIVE_INFINITY;
  let tMax = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < samples.length; i++) {
    const { t } = samples[i] as ChunkSample;
    const lo = Math.min(tMin, t);
    const hi = Math.max(tMax, t);
    if (i > start && (i - start >= MAX_SAMPLES_PER_CHUNK || hi - lo > MAX_CHUNK_SPAN_MS)) {
      yield samples.slice(start, i);
      start = i;
      tMin = t;
      tMax = t;
    } else {
      tMin = lo;
      tMax = hi;
    }
  }
  if (start < samples.length) yield samples.slice(start);
}
