import { MAX_CHUNK_SPAN_MS } from "../d1/chunk-rows";
import { type CorruptChunk, decodeChunkBytes } from "../d1/reader";
import { ColdObjectMissing, chunkBytes } from "./chunk-bytes";
import type { ChunkMeta } from "./chunk-source";

/** A channel with stored samples in a range: how many, and the t of the first and last. */
export interface ChannelSummary {
  ch: string;
  count: number;
  first_t: number;
  last_t: number;
}

const RETRIES = 3;
const STATS =
  "relay_id, session_id, ch, first_seq, first_idx, n, t_min, t_max, v_min, v_max, v_sum, v_first, v_last";

/**
 * Every channel of a user with samples in [from, to), from both tiers' chunk statistics summed in SQL; only the
 * chunks straddling `from` or `to` are decoded (at most one per series at each edge). The statistics and the
 * straddling chunks are read in one D1 batch (one transaction), so a merge or move cannot fall between them.
 */
export async function listChannels(
  db: D1Database,
  cold: R2Bucket | null,
  q: { userId: string; from: number; to: number },
): Promise<{ channels: ChannelSummary[]; errors: CorruptChunk[]; chunksDecoded: number }> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await listOnce(db, cold, q);
    } catch (err) {
      if (!(err instanceof ColdObjectMissing) || attempt >= RETRIES) throw err;
    }
  }
}

async function listOnce(
  db: D1Database,
  cold: R2Bucket | null,
  q: { userId: string; from: number; to: number },
) {
  const { userId, from, to } = q;
  const both = (select: (table: string, data: string) => string) =>
    `${select("sample_chunks", "data, NULL AS object_key, NULL AS byte_offset, NULL AS byte_length")}
     UNION ALL ${select("cold_chunks", "NULL AS data, object_key, byte_offset, byte_length")}`;
  const inside = both(
    (table) =>
      `SELECT ch, n, t_min, t_max FROM ${table} WHERE user_id = ? AND t_min >= ? AND t_min < ? AND t_max < ?`,
  );
  // Chunks over `from` start in the hour before it; chunks over `to` (and not over `from`) in the hour before `to`.
  const edges = both(
    (table, data) =>
      `SELECT ${STATS}, ${data} FROM ${table} WHERE user_id = ? AND t_min >= ? AND t_min < ? AND t_max >= ?
       UNION ALL SELECT ${STATS}, ${data} FROM ${table} WHERE user_id = ? AND t_min >= ? AND t_min < ? AND t_max >= ?`,
  );
  const insideParams = [userId, from, to, to];
  const edgeParams = [
    ...[userId, Math.max(0, from - MAX_CHUNK_SPAN_MS), from, from],
    ...[userId, Math.max(from, to - MAX_CHUNK_SPAN_MS), to, to],
  ];
  const [sums, straddling, legacy] = await db.batch<Record<string, unknown>>([
    db
      .prepare(
        `SELECT ch, SUM(n) AS count, MIN(t_min) AS first_t, MAX(t_max) AS last_t FROM (${inside}) GROUP BY ch`,
      )
      .bind(...insideParams, ...insideParams),
    db.prepare(edges).bind(...edgeParams, ...edgeParams),
    db
      .prepare(
        "SELECT ch, COUNT(*) AS count, MIN(t) AS first_t, MAX(t) AS last_t FROM samples WHERE user_id = ? AND t >= ? AND t < ? GROUP BY ch",
      )
      .bind(userId, from, to),
  ]);
  const out = new Map<string, ChannelSummary>();
  const add = (s: ChannelSummary) => {
    const had = out.get(s.ch);
    if (!had) out.set(s.ch, { ...s });
    else {
      had.count += s.count;
      had.first_t = Math.min(had.first_t, s.first_t);
      had.last_t = Math.max(had.last_t, s.last_t);
    }
  };
  for (const row of [...(sums?.results ?? []), ...(legacy?.results ?? [])]) {
    add({
      ch: String(row.ch),
      count: Number(row.count),
      first_t: Number(row.first_t),
      last_t: Number(row.last_t),
    });
  }
  const metas = (straddling?.results ?? []) as unknown as ChunkMeta[];
  const bytes = await chunkBytes(cold, metas);
  const errors: CorruptChunk[] = [];
  for (const meta of metas) {
    const samples = await decodeChunkBytes(meta, bytes.get(meta) as Uint8Array);
    if (!Array.isArray(samples)) {
      errors.push(samples);
      continue;
    }
    for (const { t } of samples)
      if (t >= from && t < to) add({ ch: meta.ch, count: 1, first_t: t, last_t: t });
  }
  const channels = [...out.values()].sort((a, b) => (a.ch < b.ch ? -1 : a.ch > b.ch ? 1 : 0));
  return { channels, errors, chunksDecoded: metas.length };
}
