import { MAX_CHUNK_SPAN_MS } from "../d1/chunk-rows";

/**
 * Where a listed chunk's bytes are: inline (a warm `sample_chunks` row, selected with its metadata so that bytes
 * and metadata come from one snapshot), or a byte range of an R2 object (a `cold_chunks` row), or not selected.
 */
export interface ChunkMeta {
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
  /** Warm chunk bytes, when the listing asked for them; null for cold chunks. */
  data: ArrayBuffer | number[] | null;
  /** Cold chunks: the R2 object and the byte range [byte_offset, byte_offset + byte_length) in it. */
  object_key: string | null;
  byte_offset: number | null;
  byte_length: number | null;
}

/** The chunks a listing selects: a user's channels, those touching [from, to) with t_max at or after `notBefore`. */
export interface ChunkWindow {
  userId: string;
  from: number;
  to: number;
  channels: readonly string[] | null;
  /** Chunks ending before this t are not selected (a cursor's t: the seek happens in SQL, not after decoding). */
  notBefore?: number;
  /** `data` for warm chunks: "all", "none", or only those for which the SQL condition `when` holds. */
  data?: "all" | "none" | { when: string; params: unknown[] };
}

const STATS =
  "relay_id, session_id, ch, first_seq, first_idx, n, t_min, t_max, v_min, v_max, v_sum, v_first, v_last";

/**
 * One query over both tiers, in chunk key order (t_min, relay_id, ch, first_seq, first_idx), at most `limit`
 * rows. A chunk is in exactly one tier at any moment (a move is one D1 transaction) and one statement reads one
 * snapshot, so a listing never shows a chunk twice or misses one; callers never page on chunk identity across
 * two listings (compaction may replace chunks between them) but restart from a sample position.
 */
export async function listChunks(db: D1Database, w: ChunkWindow, limit: number): Promise<ChunkMeta[]> {
  const start = Math.max(w.from, w.notBefore ?? w.from);
  // A chunk spans at most MAX_CHUNK_SPAN_MS, so t_max >= start implies t_min >= start - span: the index range.
  // The channels as one JSON parameter: D1 binds at most 100 parameters, and the statement names its WHERE twice.
  const where = `WHERE user_id = ? AND t_min >= ? AND t_min < ? AND t_max >= ?${
    w.channels ? " AND ch IN (SELECT value FROM json_each(?))" : ""
  }`;
  const params = [
    w.userId,
    Math.max(0, start - MAX_CHUNK_SPAN_MS),
    w.to,
    start,
    ...(w.channels ? [JSON.stringify(w.channels)] : []),
  ];
  const data = w.data ?? "all";
  const warmData =
    data === "all" ? "data" : data === "none" ? "NULL" : `CASE WHEN ${data.when} THEN data END`;
  const warmParams = typeof data === "object" ? data.params : [];
  const { results } = await db
    .prepare(
      `SELECT ${STATS}, ${warmData} AS data, NULL AS object_key, NULL AS byte_offset, NULL AS byte_length
         FROM sample_chunks ${where}
       UNION ALL
       SELECT ${STATS}, NULL AS data, object_key, byte_offset, byte_length FROM cold_chunks ${where}
       ORDER BY t_min, relay_id, ch, first_seq, first_idx LIMIT ?`,
    )
    .bind(...warmParams, ...params, ...params, limit)
    .all<ChunkMeta>();
  return results;
}

/** Chunk keys per statement when fetching warm bytes (one JSON parameter each: D1 binds at most 100). */
const KEYS_PER_STATEMENT = 500;

/**
 * The warm bytes of chunks listed without them, by key, in one D1 batch; null for a chunk that is no longer
 * there (moved to the cold tier or merged since the listing: the caller re-reads).
 */
export async function warmBytes(
  db: D1Database,
  userId: string,
  chunks: readonly ChunkMeta[],
): Promise<Map<ChunkMeta, Uint8Array | null>> {
  const out = new Map<ChunkMeta, Uint8Array | null>();
  const keyOf = (c: { t_min: number; relay_id: string; ch: string; first_seq: number; first_idx: number }) =>
    JSON.stringify([c.t_min, c.relay_id, c.ch, c.first_seq, c.first_idx]);
  const statements: D1PreparedStatement[] = [];
  for (let i = 0; i < chunks.length; i += KEYS_PER_STATEMENT) {
    const keys = chunks
      .slice(i, i + KEYS_PER_STATEMENT)
      .map((c) => [c.t_min, c.relay_id, c.ch, c.first_seq, c.first_idx]);
    statements.push(
      db
        .prepare(
          `SELECT t_min, relay_id, ch, first_seq, first_idx, data FROM sample_chunks
           WHERE user_id = ? AND (t_min, relay_id, ch, first_seq, first_idx) IN (
             SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4 FROM json_each(?))`,
        )
        .bind(userId, JSON.stringify(keys)),
    );
  }
  if (statements.length === 0) return out;
  const found = new Map<string, Uint8Array>();
  for (const result of await db.batch<ChunkMeta & { data: ArrayBuffer }>(statements))
    for (const row of result.results) found.set(keyOf(row), new Uint8Array(row.data));
  for (const c of chunks) out.set(c, found.get(keyOf(c)) ?? null);
  return out;
}
