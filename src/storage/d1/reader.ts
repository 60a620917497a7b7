import type { ChunkSample } from "../chunk/chunk-codec";
import { ChunkDecodeError, decodeChunk } from "../chunk/chunk-codec";
import { ColdObjectMissing, chunkBytes } from "../read/chunk-bytes";
import { type ChunkMeta, listChunks } from "../read/chunk-source";

/** A stored sample as the read API returns it (docs/protocol.md, "Reading samples"). */
export interface StoredSample {
  relay_id: string;
  session_id: string;
  seq: number;
  idx: number;
  t: number;
  ch: string;
  v: number;
}

/** A chunk that could not be decoded: reported in the answer, never silently skipped. */
export interface CorruptChunk {
  code: "corrupt_chunk";
  message: string;
  relay_id: string;
  session_id: string;
  ch: string;
  first_seq: number;
  first_idx: number;
  t_min: number;
  t_max: number;
  count: number;
}

/** A position in read order (t, relay_id, seq, idx): reading continues after it. */
export type ReadPosition = [t: number, relayId: string, seq: number, idx: number];

export interface RangeQuery {
  userId: string;
  /** Inclusive. */
  from: number;
  /** Exclusive. */
  to: number;
  /** null: every channel. */
  channels: readonly string[] | null;
}

/** Chunks one samples request decodes before it answers with what is complete and a cursor (docs/protocol.md). */
export const READ_CHUNK_BUDGET = 256;
/** Chunks listed (and decoded) per round of a request. */
const ROUND_CHUNKS = 64;
/** Re-listings after a cold object vanished under a read (a move or merge ran meanwhile). */
const COLD_RETRIES = 3;

/** Read order: t, then relay id, seq, idx. */
export function compareSamples(a: StoredSample, b: StoredSample): number {
  return (
    a.t - b.t ||
    (a.relay_id < b.relay_id ? -1 : a.relay_id > b.relay_id ? 1 : 0) ||
    a.seq - b.seq ||
    a.idx - b.idx
  );
}

function after(s: StoredSample, p: ReadPosition): boolean {
  return (
    compareSamples(s, { relay_id: p[1], session_id: "", seq: p[2], idx: p[3], t: p[0], ch: "", v: 0 }) > 0
  );
}

/** (t, relay) of `a` strictly before (t, relay) of `b`. */
function tRelayBefore(at: number, ar: string, bt: number, br: string): boolean {
  return at < bt || (at === bt && ar < br);
}

/** The samples of chunk bytes, or the report of why they cannot be read. */
export async function decodeChunkBytes(
  meta: ChunkMeta,
  bytes: Uint8Array,
): Promise<ChunkSample[] | CorruptChunk> {
  try {
    return await decodeChunk(bytes);
  } catch (err) {
    if (!(err instanceof ChunkDecodeError)) throw err;
    return {
      code: "corrupt_chunk",
      message: `chunk could not be decoded: ${err.message}`,
      relay_id: meta.relay_id,
      session_id: meta.session_id,
      ch: meta.ch,
      first_seq: meta.first_seq,
      first_idx: meta.first_idx,
      t_min: meta.t_min,
      t_max: meta.t_max,
      count: meta.n,
    };
  }
}

export interface SamplesPage {
  samples: StoredSample[];
  /** Where the next page starts (exclusive), or null: nothing more in the range. */
  next: ReadPosition | null;
  errors: CorruptChunk[];
  /** Chunks this request decoded (its CPU cost; tests and benchmarks read it). */
  chunksDecoded: number;
}

/**
 * Samples of [from, to), in read order, after `position`, at most `limit`, from both storage tiers and from
 * 0.1's `samples` table until `npm run migrate:storage` has emptied it.
 *
 * The request runs in rounds; each lists up to ROUND_CHUNKS chunks from the current position in ONE query (so
 * it sees one consistent state of merges and moves) and keeps the decoded samples that precede every unlisted
 * chunk's first (t, relay). The next round restarts from a sample position, never a chunk key, so it is exact
 * whatever compaction or the cold move changed in between. After READ_CHUNK_BUDGET chunks the request answers
 * what is complete with `next`, even with fewer than `limit` samples: the cost of a page is bounded by what it
 * decodes, not by what lies before it.
 */
export async function readSamples(
  db: D1Database,
  q: RangeQuery & { limit: number; position: ReadPosition | null },
  cold: R2Bucket | null = null,
): Promise<SamplesPage> {
  const out: StoredSample[] = [];
  const errors = new Map<string, CorruptChunk>();
  let position = q.position;
  let decoded = 0;
  let roundChunks = ROUND_CHUNKS;
  let coldRetries = 0;
  for (;;) {
    const need = q.limit - out.length;
    const listed = await listChunks(db, { ...q, notBefore: position?.[0] }, roundChunks + 1);
    let next = listed.length > roundChunks ? (listed[roundChunks] as ChunkMeta) : null;
    // Progress needs the next unlisted chunk to start after the position: list more when chunks straddle it
    // or share its (t, relay) (a chunk's samples at t_min may come before or after the position).
    if (next && position && !tRelayBefore(position[0], position[1], next.t_min, next.relay_id)) {
      roundChunks *= 4;
      continue;
    }
    const take = listed.slice(0, roundChunks);
    let bytes: Map<ChunkMeta, Uint8Array>;
    try {
      bytes = await chunkBytes(cold, take);
    } catch (err) {
      if (!(err instanceof ColdObjectMissing) || ++coldRetries > COLD_RETRIES) throw err;
      continue;
    }
    const found = await legacySamples(db, q, position, need + 1);
    for (const meta of take) {
      // Enough samples precede this chunk and those after it: they wait for the next round or request (large
      // chunks of several channels overlap in time; a page should not decode a whole round of them).
      if (found.length > need && beforeCount(found, meta) > need) {
        next = meta;
        break;
      }
      decoded++;
      const samples = await decodeChunkBytes(meta, bytes.get(meta) as Uint8Array);
      if (!Array.isArray(samples)) {
        errors.set(`${meta.relay_id}\n${meta.ch}\n${meta.first_seq}\n${meta.first_idx}`, samples);
        continue;
      }
      for (const { seq, idx, t, v } of samples) {
        if (t < q.from || t >= q.to || (next && !tRelayBefore(t, meta.relay_id, next.t_min, next.relay_id)))
          continue;
        const sample = { relay_id: meta.relay_id, session_id: meta.session_id, seq, idx, t, ch: meta.ch, v };
        if (!position || after(sample, position)) found.push(sample);
      }
    }
    const final = next
      ? found.filter((s) => tRelayBefore(s.t, s.relay_id, next.t_min, next.relay_id))
      : found;
    final.sort(compareSamples);
    out.push(...final.slice(0, need));
    const done = (next: ReadPosition | null): SamplesPage => ({
      samples: out,
      next,
      errors: [...errors.values()],
      chunksDecoded: decoded,
    });
    if (final.length > need) {
      const last = out.at(-1) as StoredSample;
      return done([last.t, last.relay_id, last.seq, last.idx]);
    }
    if (!next) return done(null);
    // Every sample before the next chunk's (t, relay) is out; (t, relay, 0, 0) precedes all samples there.
    position = [next.t_min, next.relay_id, 0, 0];
    roundChunks = ROUND_CHUNKS;
    if (out.length >= q.limit || decoded >= READ_CHUNK_BUDGET) return done(position);
  }
}

/** Samples that precede the chunk's first (t, relay): no sample of it or a later chunk comes before them. */
function beforeCount(samples: readonly StoredSample[], chunk: ChunkMeta): number {
  let n = 0;
  for (const s of samples) if (tRelayBefore(s.t, s.relay_id, chunk.t_min, chunk.relay_id)) n++;
  return n;
}

/** Rows of 0.1's one-row-per-sample table in the range after `position`, at most `want`. */
async function legacySamples(
  db: D1Database,
  q: RangeQuery,
  position: ReadPosition | null,
  want: number,
): Promise<StoredSample[]> {
  const chFilter = q.channels ? ` AND ch IN (${q.channels.map(() => "?").join(", ")})` : "";
  const positionFilter = position ? " AND (t, relay_id, seq, idx) > (?, ?, ?, ?)" : "";
  const { results } = await db
    .prepare(
      `SELECT relay_id, session_id, seq, idx, t, ch, v FROM samples
       WHERE user_id = ? AND t >= ? AND t < ?${chFilter}${positionFilter} ORDER BY t, relay_id, seq, idx LIMIT ?`,
    )
    .bind(q.userId, q.from, q.to, ...(q.channels ?? []), ...(position ?? []), want)
    .all<StoredSample>();
  return results;
}
