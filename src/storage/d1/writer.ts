import type { SessionRowForD1 } from "../stream-state/sessions";
import { type ChunkRow, chunkRows, type FrameSlice } from "./chunk-rows";

/**
 * Writes one flush batch to D1 in a single `DB.batch()` (one implicit transaction: all or nothing): its samples
 * as compressed chunks (docs/storage-format.md) and the sessions whose state changed.
 *
 * D1 limits (https://developers.cloudflare.com/d1/platform/limits/): 100 bound parameters per statement, 1,000
 * queries per invocation. A chunk row binds CHUNK_COLUMNS parameters, so a statement inserts a few rows; session
 * rows go as one JSON parameter expanded with json_each(), each under MAX_JSON_PARAM_CHARS.
 */
export const MAX_JSON_PARAM_CHARS = 90_000;
const CHUNK_COLUMNS = 15;
/** Two parameters stay free for the flush mark's guard. */
const CHUNKS_PER_STATEMENT = Math.floor(98 / CHUNK_COLUMNS);

// Sample counts only grow and the start time is the earliest seen, even if a session id is reused after the
// object forgot an ended session. `WHERE true` resolves SQLite's parsing ambiguity of INSERT…SELECT…ON CONFLICT.
const UPSERT_SESSIONS = `INSERT INTO sessions (user_id, session_id, relay_id, started_at, ended_at, sample_count)
SELECT ?1, json_extract(value, '$.session_id'), json_extract(value, '$.relay_id'),
       json_extract(value, '$.started_at'), json_extract(value, '$.ended_at'), json_extract(value, '$.sample_count')
FROM json_each(?2) WHERE true
ON CONFLICT (user_id, session_id) DO UPDATE SET
  relay_id = excluded.relay_id,
  started_at = MIN(sessions.started_at, excluded.started_at),
  ended_at = excluded.ended_at,
  sample_count = MAX(sessions.sample_count, excluded.sample_count)`;

/** Rows and samples written per table. */
export interface FlushedRows {
  sample_chunks: number;
  sessions: number;
  samples: number;
}

export async function writeFlushBatch(
  db: D1Database,
  userId: string,
  slices: readonly FrameSlice[],
  sessions: SessionRowForD1[],
  /** The batch's name in `flush_marks`: the object keeps it with a selection it may retry. */
  flushId: string = crypto.randomUUID(),
): Promise<FlushedRows> {
  const chunks = await chunkRows(slices);
  const statements = insertChunks(db, userId, chunks, flushId);
  const sessionEntries = sessions.map(({ version: _, ...row }) => JSON.stringify(row));
  for (const array of packJsonArrays(sessionEntries)) {
    statements.push(db.prepare(UPSERT_SESSIONS).bind(userId, array));
  }
  // Last: the chunk inserts above see no mark the first time, and a retry finds it.
  statements.push(
    db
      .prepare("INSERT OR IGNORE INTO flush_marks (user_id, flush_id, written_at) VALUES (?, ?, ?)")
      .bind(userId, flushId, Date.now()),
  );
  await db.batch(statements);
  const samples = chunks.reduce((sum, c) => sum + c.n, 0);
  return { sample_chunks: chunks.length, sessions: sessions.length, samples };
}

/**
 * INSERT OR IGNORE statements for chunk rows, CHUNKS_PER_STATEMENT rows each; with a `flushId`, each inserts
 * nothing once `flush_marks` holds that flush (compaction may have merged its chunks under other keys).
 */
export function insertChunks(
  db: D1Database,
  userId: string,
  chunks: ChunkRow[],
  flushId: string | null = null,
): D1PreparedStatement[] {
  const statements: D1PreparedStatement[] = [];
  for (let i = 0; i < chunks.length; i += CHUNKS_PER_STATEMENT) {
    const part = chunks.slice(i, i + CHUNKS_PER_STATEMENT);
    const values = part.map(() => `(${Array(CHUNK_COLUMNS).fill("?").join(", ")})`).join(", ");
    const params = part.flatMap((c) => [
      userId,
      c.relayId,
      c.ch,
      c.firstSeq,
      c.firstIdx,
      c.sessionId,
      c.n,
      c.tMin,
      c.tMax,
      c.vMin,
      c.vMax,
      c.vSum,
      c.vFirst,
      c.vLast,
      c.data,
    ]);
    statements.push(
      db
        .prepare(
          `INSERT OR IGNORE INTO sample_chunks (user_id, relay_id, ch, first_seq, first_idx, session_id, n, t_min,
           t_max, v_min, v_max, v_sum, v_first, v_last, data) SELECT * FROM (VALUES ${values})${
             flushId === null
               ? ""
               : " WHERE NOT EXISTS (SELECT 1 FROM flush_marks WHERE user_id = ? AND flush_id = ?)"
           }`,
        )
        .bind(...params, ...(flushId === null ? [] : [userId, flushId])),
    );
  }
  return statements;
}

/** Joins JSON elements into as few arrays as fit MAX_JSON_PARAM_CHARS each. */
export function packJsonArrays(entries: string[]): string[] {
  const arrays: string[] = [];
  let current: string[] = [];
  let chars = 2;
  for (const entry of entries) {
    if (current.length > 0 && chars + entry.length + 1 > MAX_JSON_PARAM_CHARS) {
      arrays.push(`[${current.join(",")}]`);
      current = [];
      chars = 2;
    }
    current.push(entry);
    chars += entry.length + 1;
  }
  if (current.length > 0) arrays.push(`[${current.join(",")}]`);
  return arrays;
}
