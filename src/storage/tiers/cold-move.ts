import { coldObjectKey, packChunks, putVerified } from "../r2/cold-object";
import type { ChunkMeta } from "../read/chunk-source";

/** Chunks one move packs at most: an object of a few MB, well within a Worker's memory. */
const MAX_CHUNKS_PER_OBJECT = 500;
/** Cold index rows per INSERT: 17 bound parameters each, D1 binds at most 100 per statement. */
const INDEX_ROWS_PER_STATEMENT = 5;
const DAY_MS = 86_400_000;

const KEY_STATS =
  "relay_id, ch, first_seq, first_idx, session_id, n, t_min, t_max, v_min, v_max, v_sum, v_first, v_last";

/** A warm chunk as the move reads it: its metadata (as every read lists it), rowid and bytes. */
type WarmChunk = Omit<ChunkMeta, "data" | "object_key" | "byte_offset" | "byte_length"> & {
  rowid: number;
  data: ArrayBuffer;
};

export interface MoveResult {
  chunks: number;
  objects: number;
  bytes: number;
}

/**
 * Moves the user's chunks whose samples are all older than `coldBefore` from D1 to R2, one UTC day of t_min per
 * object: the object's key is recorded as pending, the object written and verified, then ONE D1 batch indexes
 * it, deletes the warm rows and the pending key. A crash before that batch leaves an unindexed object (never
 * read, swept by src/storage/tiers/orphan-sweep.ts) and the chunks warm; after it, the chunks are cold. At
 * every moment each chunk is readable in exactly one tier.
 */
export async function moveUserToCold(
  db: D1Database,
  bucket: R2Bucket,
  userId: string,
  coldBefore: number,
  now: number,
  maxObjects: number,
): Promise<MoveResult> {
  const result: MoveResult = { chunks: 0, objects: 0, bytes: 0 };
  for (let i = 0; i < maxObjects; i++) {
    const first = await db
      .prepare("SELECT MIN(t_min) AS t FROM sample_chunks WHERE user_id = ? AND t_min < ? AND t_max < ?")
      .bind(userId, coldBefore, coldBefore)
      .first<{ t: number | null }>();
    if (first?.t === null || first?.t === undefined) break;
    const dayStart = Math.floor(first.t / DAY_MS) * DAY_MS;
    const { results } = await db
      .prepare(
        `SELECT rowid, ${KEY_STATS}, data FROM sample_chunks
         WHERE user_id = ? AND t_min >= ? AND t_min < ? AND t_max < ? ORDER BY t_min LIMIT ?`,
      )
      .bind(userId, dayStart, Math.min(dayStart + DAY_MS, coldBefore), coldBefore, MAX_CHUNKS_PER_OBJECT)
      .all<WarmChunk>();
    if (results.length === 0) break;
    const moved = await moveObject(db, bucket, userId, results, dayStart, now);
    result.chunks += results.length;
    result.objects += 1;
    result.bytes += moved;
  }
  return result;
}

async function moveObject(
  db: D1Database,
  bucket: R2Bucket,
  userId: string,
  chunks: WarmChunk[],
  dayStart: number,
  now: number,
): Promise<number> {
  const { body, ranges } = packChunks(chunks.map((c) => new Uint8Array(c.data)));
  const key = coldObjectKey(userId, new Date(dayStart).toISOString().slice(0, 10), now);
  await db
    .prepare("INSERT INTO cold_pending (object_key, user_id, started_at) VALUES (?, ?, ?)")
    .bind(key, userId, Date.now())
    .run();
  await putVerified(bucket, key, body);
  const channels = [...new Set(chunks.map((c) => c.ch))].sort();
  const statements = [
    db
      .prepare(
        `INSERT INTO cold_objects (object_key, user_id, t_min, t_max, bytes, chunks, samples, channels, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .bind(
        key,
        userId,
        Math.min(...chunks.map((c) => c.t_min)),
        Math.max(...chunks.map((c) => c.t_max)),
        body.length,
        chunks.length,
        chunks.reduce((sum, c) => sum + c.n, 0),
        JSON.stringify(channels),
        now,
      ),
  ];
  for (let i = 0; i < chunks.length; i += INDEX_ROWS_PER_STATEMENT) {
    const part = chunks.slice(i, i + INDEX_ROWS_PER_STATEMENT);
    const values = part.map(() => `(${Array(17).fill("?").join(", ")})`).join(", ");
    statements.push(
      db
        .prepare(
          `INSERT INTO cold_chunks (user_id, ${KEY_STATS}, object_key, byte_offset, byte_length) VALUES ${values}`,
        )
        .bind(
          ...part.flatMap((c, j) => {
            const range = ranges[i + j] as { offset: number; length: number };
            return [
              userId,
              c.relay_id,
              c.ch,
              c.first_seq,
              c.first_idx,
              c.session_id,
              c.n,
              c.t_min,
              c.t_max,
              c.v_min,
              c.v_max,
              c.v_sum,
              c.v_first,
              c.v_last,
              key,
              range.offset,
              range.length,
            ];
          }),
        ),
    );
  }
  statements.push(
    db
      .prepare("DELETE FROM sample_chunks WHERE user_id = ? AND rowid IN (SELECT value FROM json_each(?))")
      .bind(userId, JSON.stringify(chunks.map((c) => c.rowid))),
    db.prepare("DELETE FROM cold_pending WHERE object_key = ?").bind(key),
  );
  try {
    await db.batch(statements);
  } catch (err) {
    // Nothing was indexed: the object is unreachable, remove it (a crash here leaves it to the sweep).
    await bucket.delete(key).catch(() => undefined);
    throw err;
  }
  return body.length;
}
