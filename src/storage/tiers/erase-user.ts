import { sweepOrphans } from "./orphan-sweep";
import { type Deleted, deleteObjects, noneDeleted } from "./retention";

/** Rows one DELETE removes at most, so that no statement runs for long on a large user. */
const ROWS_PER_DELETE = 5_000;

/**
 * Erases the user's samples and sessions from D1 and R2 (`DELETE /v1/users/:user_id/data`). Index rows go
 * before their R2 objects. The object's own buffer is the caller's part (the route clears it between two passes
 * of this, so a flush that was in flight when the erasure started is erased by the second).
 */
export async function eraseUserStorage(db: D1Database, bucket: R2Bucket, userId: string): Promise<Deleted> {
  const deleted = noneDeleted();
  deleted.chunks = await deleteAll(db, "sample_chunks", userId);
  // 0.1's table has no rowid (WITHOUT ROWID) and empties once migrated: one statement.
  deleted.legacy_samples = (
    await db.prepare("DELETE FROM samples WHERE user_id = ?").bind(userId).run()
  ).meta.changes;
  for (;;) {
    const { results } = await db
      .prepare("SELECT object_key, bytes FROM cold_objects WHERE user_id = ? LIMIT 500")
      .bind(userId)
      .all<{ object_key: string; bytes: number }>();
    if (results.length === 0) break;
    const keys = results.map((o) => o.object_key);
    const [chunks, objects] = await db.batch([
      db
        .prepare("DELETE FROM cold_chunks WHERE object_key IN (SELECT value FROM json_each(?))")
        .bind(JSON.stringify(keys)),
      db
        .prepare("DELETE FROM cold_objects WHERE object_key IN (SELECT value FROM json_each(?))")
        .bind(JSON.stringify(keys)),
    ]);
    await deleteObjects(bucket, keys);
    deleted.cold_chunks += chunks?.meta.changes ?? 0;
    deleted.cold_objects += objects?.meta.changes ?? 0;
    deleted.cold_bytes += results.reduce((sum, o) => sum + o.bytes, 0);
  }
  deleted.cold_chunks += await deleteAll(db, "cold_chunks", userId);
  // Objects of moves that crashed before indexing them hold the user's samples too.
  deleted.cold_objects += await sweepOrphans(db, bucket, Date.now(), userId);
  deleted.sessions = await deleteAll(db, "sessions", userId);
  await db.batch([
    db.prepare("DELETE FROM tier_progress WHERE user_id = ?").bind(userId),
    db.prepare("DELETE FROM flush_marks WHERE user_id = ?").bind(userId),
  ]);
  return deleted;
}

async function deleteAll(db: D1Database, table: string, userId: string): Promise<number> {
  let total = 0;
  for (;;) {
    const { meta } = await db
      .prepare(`DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE user_id = ? LIMIT ?)`)
      .bind(userId, ROWS_PER_DELETE)
      .run();
    total += meta.changes;
    if (meta.changes < ROWS_PER_DELETE) return total;
  }
}
