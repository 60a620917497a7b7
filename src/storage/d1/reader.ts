import type { ChunkSample } from "../chunk/chunk-codec";
import { ChunkDecodeError, decodeChunk } from "../chunk/chunk-codec";
import { MAX_CHUNK_SPAN_MS } from "./chunk-rows";

/** A stored sample as the read API returns it (SPEC §2). */
export interface StoredSample {
  relay_id: string;
  session_id: string;
  seq: number;
  idx: number;
  t: number;
  ch: string;
  v: number;
}

/** A chunk that could not be decoded: reported in the answer, never silently skipped (SPEC §4). */
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

/** A `sample_chunks` row as read (migrations/0002_sample_chunks.sql). */
export interface ChunkRecord {
  relay_id: string;
  session_id: string;
  ch: string;
  first_seq: number;
  first_idx: number;
  n: number;
  t_min: number;
  t_max: number;
  v_min: number;
  v_max: number;
  v_sum: number | null;
  v_first: number;
  v_last: number;
  data: ArrayBuffer | number[];
}

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

const CHUNK_PAGE = 64;

/**
 * The chunks touching [from, to) of the query's channels, in t_min order, a page at a time; a chunk spans at
 * most MAX_CHUNK_SPAN_MS, so only t_min in [from - span, to) can touch the range (one index range scan).
 */
export async function* chunksInRange(
  db: D1Database,
  q: RangeQuery,
  columns = "*",
): AsyncGenerator<ChunkRecord[]> {
  const chFilter = q.channels ? ` AND ch IN (${q.channels.map(() => "?").join(", ")})` : "";
  let cursor: [number, string, string, number, number] | null = null;
  for (;;) {
    const keyAfter = cursor ? " AND (t_min, relay_id, ch, first_seq, first_idx) > (?, ?, ?, ?, ?)" : "";
    const params: unknown[] = [
      q.userId,
      Math.max(0, q.from - MAX_CHUNK_SPAN_MS),
      q.to,
      q.from,
      ...(q.channels ?? []),
    ];
    if (cursor) params.push(...cursor);
    const { results } = await db
      .prepare(
        `SELECT ${columns} FROM sample_chunks WHERE user_id = ? AND t_min >= ? AND t_min < ? AND t_max >= ?${chFilter}${keyAfter}
         ORDER BY t_min, relay_id, ch, first_seq, first_idx LIMIT ${CHUNK_PAGE}`,
      )
      .bind(...params)
      .all<ChunkRecord>();
    if (results.length > 0) yield results;
    if (results.length < CHUNK_PAGE) return;
    const last = results.at(-1) as ChunkRecord;
    cursor = [last.t_min, last.relay_id, last.ch, last.first_seq, last.first_idx];
  }
}

/** The samples of a chunk row, or the report of why it cannot be read. */
export async function decodeRecord(record: ChunkRecord): Promise<ChunkSample[] | CorruptChunk> {
  try {
    return await decodeChunk(new Uint8Array(record.data));
  } catch (err) {
    if (!(err instanceof ChunkDecodeError)) throw err;
    return {
      code: "corrupt_chunk",
      message: `chunk could not be decoded: ${err.message}`,
      relay_id: record.relay_id,
      session_id: record.session_id,
      ch: record.ch,
      first_seq: record.first_seq,
      first_idx: record.first_idx,
      t_min: record.t_min,
      t_max: record.t_max,
      count: record.n,
    };
  }
}

export interface SamplesPage {
  samples: StoredSample[];
  hasMore: boolean;
  errors: CorruptChunk[];
}

/**
 * Samples of [from, to), in read order, after `position`, at most `limit`: from the chunks, and from 0.1's
 * `samples` table until `npm run migrate:storage` has emptied it. Chunks are decoded in t_min order until the
 * limit is reached by samples earlier than any chunk not yet read.
 */
export async function readSamples(
  db: D1Database,
  q: RangeQuery & { limit: number; position: ReadPosition | null },
): Promise<SamplesPage> {
  const want = q.limit + 1;
  const found = await legacySamples(db, q, want);
  const errors: CorruptChunk[] = [];
  for await (const page of chunksInRange(db, q)) {
    const bound = page[0]?.t_min ?? Number.POSITIVE_INFINITY;
    if (found.length >= want && (found[want - 1] as StoredSample).t < bound) break;
    for (const record of page) {
      const decoded = await decodeRecord(record);
      if (!Array.isArray(decoded)) {
        errors.push(decoded);
        continue;
      }
      for (const { seq, idx, t, v } of decoded) {
        if (t < q.from || t >= q.to) continue;
        const sample = {
          relay_id: record.relay_id,
          session_id: record.session_id,
          seq,
          idx,
          t,
          ch: record.ch,
          v,
        };
        if (q.position && !after(sample, q.position)) continue;
        found.push(sample);
      }
    }
    found.sort(compareSamples);
    found.length = Math.min(found.length, want);
  }
  found.sort(compareSamples);
  return { samples: found.slice(0, q.limit), hasMore: found.length > q.limit, errors };
}

/** Rows of 0.1's one-row-per-sample table in the range, at most `want`. */
async function legacySamples(
  db: D1Database,
  q: RangeQuery & { position: ReadPosition | null },
  want: number,
): Promise<StoredSample[]> {
  const chFilter = q.channels ? ` AND ch IN (${q.channels.map(() => "?").join(", ")})` : "";
  const positionFilter = q.position ? " AND (t, relay_id, seq, idx) > (?, ?, ?, ?)" : "";
  const { results } = await db
    .prepare(
      `SELECT relay_id, session_id, seq, idx, t, ch, v FROM samples
       WHERE user_id = ? AND t >= ? AND t < ?${chFilter}${positionFilter} ORDER BY t, relay_id, seq, idx LIMIT ?`,
    )
    .bind(q.userId, q.from, q.to, ...(q.channels ?? []), ...(q.position ?? []), want)
    .all<StoredSample>();
  return results;
}
