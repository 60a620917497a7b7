import type { ChunkMeta } from "./chunk-source";

/** Neighbouring cold chunks of one object closer than this are fetched by one R2 range read. */
const COALESCE_GAP_BYTES = 64 * 1024;

/** An R2 object an index row points to is gone: a move, merge or retention ran between index read and fetch. */
export class ColdObjectMissing extends Error {
  override name = "ColdObjectMissing";
}

/**
 * The bytes of listed chunks: warm ones from their row, cold ones as R2 range reads, neighbours of one object
 * coalesced into one read (R2 bills per request, and chunks of one period lie side by side in an object).
 * Throws ColdObjectMissing when the index outlived its object; callers re-list from the same sample position.
 */
export async function chunkBytes(
  cold: R2Bucket | null,
  chunks: readonly ChunkMeta[],
): Promise<Map<ChunkMeta, Uint8Array>> {
  const out = new Map<ChunkMeta, Uint8Array>();
  const byObject = new Map<string, ChunkMeta[]>();
  for (const c of chunks) {
    if (c.data !== null) out.set(c, new Uint8Array(c.data));
    else if (c.object_key !== null) {
      const list = byObject.get(c.object_key) ?? [];
      list.push(c);
      byObject.set(c.object_key, list);
    }
  }
  if (byObject.size === 0) return out;
  if (!cold) throw new Error("cold chunks listed but no R2 binding COLD was given to the reader");
  const reads: Promise<void>[] = [];
  for (const [key, list] of byObject) {
    for (const run of coalesce(list)) reads.push(readRun(cold, key, run, out));
  }
  await Promise.all(reads);
  return out;
}

/** Runs of chunks sorted by offset whose gaps are small enough to read together. */
function coalesce(list: ChunkMeta[]): ChunkMeta[][] {
  const sorted = [...list].sort((a, b) => Number(a.byte_offset) - Number(b.byte_offset));
  const runs: ChunkMeta[][] = [];
  let end = Number.NEGATIVE_INFINITY;
  for (const c of sorted) {
    const offset = Number(c.byte_offset);
    const last = runs.at(-1);
    if (last && offset - end <= COALESCE_GAP_BYTES) last.push(c);
    else runs.push([c]);
    end = Math.max(end, offset + Number(c.byte_length));
  }
  return runs;
}

async function readRun(cold: R2Bucket, key: string, run: ChunkMeta[], out: Map<ChunkMeta, Uint8Array>) {
  const start = Number(run[0]?.byte_offset);
  const end = Math.max(...run.map((c) => Number(c.byte_offset) + Number(c.byte_length)));
  const object = await cold.get(key, { range: { offset: start, length: end - start } });
  if (!object) throw new ColdObjectMissing(`R2 object ${key} is gone`);
  const bytes = new Uint8Array(await object.arrayBuffer());
  if (bytes.length < end - start) throw new ColdObjectMissing(`R2 object ${key} is shorter than its index`);
  for (const c of run) {
    const at = Number(c.byte_offset) - start;
    out.set(c, bytes.subarray(at, at + Number(c.byte_length)));
  }
}
