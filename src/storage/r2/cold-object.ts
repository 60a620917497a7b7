/**
 * A cold object: the chunk blobs of one user and period laid end to end, each exactly as `sample_chunks.data`
 * held it; the D1 index (`cold_chunks`) has each one's byte range, so the object needs no header of its own
 * (docs/storage-format.md, "Tiers").
 */
export interface PackedObject {
  body: Uint8Array;
  /** Where each blob is, in the order given. */
  ranges: { offset: number; length: number }[];
}

export function packChunks(blobs: readonly Uint8Array[]): PackedObject {
  const size = blobs.reduce((sum, b) => sum + b.length, 0);
  const body = new Uint8Array(size);
  const ranges: PackedObject["ranges"] = [];
  let offset = 0;
  for (const blob of blobs) {
    body.set(blob, offset);
    ranges.push({ offset, length: blob.length });
    offset += blob.length;
  }
  return { body, ranges };
}

/**
 * The key of a new object for the user's UTC day `day` (YYYY-MM-DD): unique per move, so late samples of a day
 * already moved go to another object, never a rewrite of one that reads depend on.
 */
export function coldObjectKey(userId: string, day: string, now: number): string {
  return `cold/${userId}/${day}/${now}-${crypto.randomUUID().slice(0, 8)}.zec`;
}

/** Writes the object and checks it: R2 verifies the body against its SHA-256, and the size is read back. */
export async function putVerified(bucket: R2Bucket, key: string, body: Uint8Array): Promise<void> {
  const sha256 = await crypto.subtle.digest("SHA-256", body);
  await bucket.put(key, body, { sha256 });
  const head = await bucket.head(key);
  if (!head || head.size !== body.length) {
    throw new Error(`cold object ${key}: wrote ${body.length} bytes, R2 holds ${head?.size ?? "nothing"}`);
  }
}
