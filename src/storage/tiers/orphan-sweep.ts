import { deleteObjects } from "./retention";

/** A move takes seconds; a key pending longer than this was left by a crash (the job's lease is 30 s). */
export const ORPHAN_GRACE_MS = 10 * 60_000;
/** Orphans one sweep removes at most (R2 deletes up to 1,000 keys per call). */
const KEYS_PER_SWEEP = 500;

/**
 * Deletes cold objects a crashed move left in R2 before indexing them (`cold_pending`, migration 0005), and their
 * rows. `userId`: only that user's, whatever their age (erasure); else every user's older than the grace.
 */
export async function sweepOrphans(
  db: D1Database,
  bucket: R2Bucket,
  now: number,
  userId?: string,
): Promise<number> {
  const { results } = await (userId === undefined
    ? db
        .prepare("SELECT object_key FROM cold_pending WHERE started_at < ? LIMIT ?")
        .bind(now - ORPHAN_GRACE_MS, KEYS_PER_SWEEP)
    : db.prepare("SELECT object_key FROM cold_pending WHERE user_id = ? LIMIT ?").bind(userId, KEYS_PER_SWEEP)
  ).all<{ object_key: string }>();
  if (results.length === 0) return 0;
  const keys = results.map((r) => r.object_key);
  // An indexed key is never pending (one batch indexes it and removes the row); the check costs one read.
  const { results: indexed } = await db
    .prepare("SELECT object_key FROM cold_objects WHERE object_key IN (SELECT value FROM json_each(?))")
    .bind(JSON.stringify(keys))
    .all<{ object_key: string }>();
  const keep = new Set(indexed.map((r) => r.object_key));
  const orphans = keys.filter((k) => !keep.has(k));
  await deleteObjects(bucket, orphans);
  await db
    .prepare("DELETE FROM cold_pending WHERE object_key IN (SELECT value FROM json_each(?))")
    .bind(JSON.stringify(keys))
    .run();
  return orphans.length;
}
