import { ChunkDecodeError, type ChunkSample, decodeChunk } from "../chunk/chunk-codec";
import { type ChunkRow, chunkRow, cut, MAX_SAMPLES_PER_CHUNK } from "../d1/chunk-rows";
import { insertChunks } from "../d1/writer";

/** Compaction merges the chunks whose t_min falls in one aligned window of this size. */
export const COMPACTION_WINDOW_MS = 3_600_000;
/**
 * A window is compacted once it ended this long ago: flushes of its samples (FLUSH_INTERVAL_MS, retries, a relay
 * resending after a reconnect) have landed by then. A later chunk of the window stays as it is.
 */
export const COMPACTION_SETTLE_MS = 3_600_000;
/**
 * Only chunks under half full are merged: merging fuller ones would write and delete two rows per chunk (billed
 * rows) to save a few percent of bytes (BENCHMARKS.md, "Storage tiers measured").
 */
const MERGE_BELOW = MAX_SAMPLES_PER_CHUNK / 2;

interface SmallChunk {
  rowid: number;
  relay_id: string;
  session_id: string;
  ch: string;
  first_seq: number;
  n: number;
  t_min: number;
  data: ArrayBuffer;
}

export interface CompactionResult {
  /** Chunk rows replaced, and rows written in their place. */
  merged: number;
  written: number;
  /** Windows done: compaction of the user has reached this t_min. */
  until: number;
}

/**
 * Merges each series' (relay, session, channel) small chunks of the user's settled windows into full ones
 * (at most MAX_SAMPLES_PER_CHUNK samples and MAX_CHUNK_SPAN_MS of t), a window at a time, starting where the last
 * run stopped. Each window is ONE D1 batch (a transaction): sources deleted, merged chunks inserted, progress
 * recorded, so a read sees every sample exactly once before, during and after, and a crash redoes the window.
 */
export async function compactUser(
  db: D1Database,
  userId: string,
  now: number,
  maxWindows: number,
): Promise<CompactionResult> {
  const progress = await db
    .prepare("SELECT compacted_until FROM tier_progress WHERE user_id = ?")
    .bind(userId)
    .first<{ compacted_until: number }>();
  const settled = Math.floor((now - COMPACTION_SETTLE_MS) / COMPACTION_WINDOW_MS) * COMPACTION_WINDOW_MS;
  let start = progress?.compacted_until ?? 0;
  if (start === 0) {
    // First run for the user: from its oldest warm chunk.
    const oldest = await db
      .prepare("SELECT MIN(t_min) AS t FROM sample_chunks WHERE user_id = ?")
      .bind(userId)
      .first<{ t: number | null }>();
    if (oldest?.t === null || oldest?.t === undefined) return { merged: 0, written: 0, until: start };
    start = Math.floor(oldest.t / COMPACTION_WINDOW_MS) * COMPACTION_WINDOW_MS;
  }
  const result = { merged: 0, written: 0, until: start };
  for (let w = 0; w < maxWindows && start < settled; w++) {
    const end = start + COMPACTION_WINDOW_MS;
    const { results } = await db
      .prepare(
        `SELECT rowid, relay_id, session_id, ch, first_seq, n, t_min, data FROM sample_chunks
         WHERE user_id = ? AND t_min >= ? AND t_min < ? AND n < ?`,
      )
      .bind(userId, start, end, MERGE_BELOW)
      .all<SmallChunk>();
    const { sources, merged } = await mergeSeries(results);
    const statements: D1PreparedStatement[] = [];
    if (sources.length > 0) {
      // Guarded by the listed content too: a row id reused since the listing is not another chunk's.
      statements.push(
        db
          .prepare(
            `DELETE FROM sample_chunks WHERE user_id = ?1 AND rowid IN (
               SELECT json_extract(value, '$[0]') FROM json_each(?2)
             ) AND (rowid, first_seq, n, t_min) IN (
               SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'),
                      json_extract(value, '$[3]') FROM json_each(?2))`,
          )
          .bind(userId, JSON.stringify(sources.map((s) => [s.rowid, s.first_seq, s.n, s.t_min]))),
        ...insertChunks(db, userId, merged),
      );
    }
    statements.push(
      db
        .prepare(
          `INSERT INTO tier_progress (user_id, compacted_until) VALUES (?1, ?2)
           ON CONFLICT (user_id) DO UPDATE SET compacted_until = MAX(compacted_until, excluded.compacted_until)`,
        )
        .bind(userId, end),
    );
    await db.batch(statements);
    result.merged += sources.length;
    result.written += merged.length;
    result.until = end;
    start = end;
    if (results.length === 0) {
      // Skip empty stretches at once: the next window with a chunk.
      const next = await db
        .prepare("SELECT MIN(t_min) AS t FROM sample_chunks WHERE user_id = ? AND t_min >= ?")
        .bind(userId, end)
        .first<{ t: number | null }>();
      if (next?.t === null || next?.t === undefined) {
        start = settled;
      } else start = Math.max(end, Math.floor(next.t / COMPACTION_WINDOW_MS) * COMPACTION_WINDOW_MS);
    }
  }
  if (start > result.until && start <= settled) {
    await db
      .prepare(
        `INSERT INTO tier_progress (user_id, compacted_until) VALUES (?1, ?2)
         ON CONFLICT (user_id) DO UPDATE SET compacted_until = MAX(compacted_until, excluded.compacted_until)`,
      )
      .bind(userId, start)
      .run();
    result.until = start;
  }
  return result;
}

/** The series with two or more small chunks, merged: the rows they replace and the rows that replace them. */
async function mergeSeries(rows: SmallChunk[]): Promise<{ sources: SmallChunk[]; merged: ChunkRow[] }> {
  const series = new Map<string, SmallChunk[]>();
  for (const row of rows) {
    const key = `${row.relay_id}\n${row.session_id}\n${row.ch}`;
    const list = series.get(key);
    if (list) list.push(row);
    else series.set(key, [row]);
  }
  const sources: SmallChunk[] = [];
  const merged: ChunkRow[] = [];
  for (const chunks of series.values()) {
    if (chunks.length < 2) continue;
    const samples: ChunkSample[] = [];
    try {
      for (const chunk of chunks) samples.push(...(await decodeChunk(new Uint8Array(chunk.data))));
    } catch (err) {
      // A corrupt chunk stays as it is (reads report it); its series is not merged.
      if (err instanceof ChunkDecodeError) continue;
      throw err;
    }
    samples.sort((a, b) => a.seq - b.seq || a.idx - b.idx);
    const parts = [...cut(samples)];
    if (parts.length >= chunks.length) continue;
    const { relay_id, session_id, ch } = chunks[0] as SmallChunk;
    for (const part of parts) merged.push(await chunkRow(relay_id, session_id, ch, part));
    sources.push(...chunks);
  }
  return { sources, merged };
}
