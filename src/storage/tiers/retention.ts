/** What one retention or erasure pass deleted. */
export interface Deleted {
  chunks: number;
  cold_chunks: number;
  cold_objects: number;
  cold_bytes: number;
  legacy_samples: number;
  sessions: number;
}

export function noneDeleted(): Deleted {
  return { chunks: 0, cold_chunks: 0, cold_objects: 0, cold_bytes: 0, legacy_samples: 0, sessions: 0 };
}

/**
 * Deletes the user's samples older than `cutoff` from every tier: warm chunks and cold index rows whose samples
 * are all older; cold objects whose samples are all older (their index rows first, then the R2 object, so a read
 * never finds an index row without its bytes); 0.1's rows. A chunk or object that straddles the cutoff is kept
 * until it is wholly past it (README, "Storage").
 */
export async function applyRetention(
  db: D1Database,
  bucket: R2Bucket,
  userId: string,
  cutoff: number,
): Promise<Deleted> {
  const deleted = noneDeleted();
  const { results: objects } = await db
    .prepare("SELECT object_key, bytes FROM cold_objects WHERE user_id = ? AND t_max < ?")
    .bind(userId, cutoff)
    .all<{ object_key: string; bytes: number }>();
  const keys = JSON.stringify(objects.map((o) => o.object_key));
  const [warm, cold, objs, legacy] = await db.batch([
    db
      .prepare("DELETE FROM sample_chunks WHERE user_id = ? AND t_min < ? AND t_max < ?")
      .bind(userId, cutoff, cutoff),
    db
      .prepare("DELETE FROM cold_chunks WHERE user_id = ? AND t_min < ? AND t_max < ?")
      .bind(userId, cutoff, cutoff),
    db
      .prepare(
        "DELETE FROM cold_objects WHERE user_id = ? AND object_key IN (SELECT value FROM json_each(?))",
      )
      .bind(userId, keys),
    db.prepare("DELETE FROM samples WHERE user_id = ? AND t < ?").bind(userId, cutoff),
  ]);
  await deleteObjects(
    bucket,
    objects.map((o) => o.object_key),
  );
  deleted.chunks = warm?.meta.changes ?? 0;
  deleted.cold_chunks = cold?.meta.changes ?? 0;
  deleted.cold_objects = objs?.meta.changes ?? 0;
  deleted.cold_bytes = objects.reduce((sum, o) => sum + o.bytes, 0);
  deleted.legacy_samples = legacy?.meta.changes ?? 0;
  return deleted;
}

/** R2 deletes take up to 1,000 keys a call. */
export async function deleteObjects(bucket: R2Bucket, keys: string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += 1_000) await bucket.delete(keys.slice(i, i + 1_000));
}
