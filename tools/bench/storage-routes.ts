import { getConfig } from "../../src/config";
import type { Env } from "../../src/env";
import { chunkRows, type FrameSlice } from "../../src/storage/d1/chunk-rows";
import { writeFlushBatch } from "../../src/storage/d1/writer";
import { decodeFrameColumns, encodeFrameColumns } from "../../src/storage/stream-state/frame-columns";
import { STORAGE_SHAPES } from "./data-shapes";
import { type OldLayoutPiece, writeOldLayoutBatch } from "./old-layout";

/** Samples per frame of the storage benchmark: what a relay at 50-100 Hz sends about once a second. */
export const STORAGE_FRAME_SAMPLES = 100;
/** The storage benchmark's users; nothing else writes ids with this prefix. */
export const STORAGE_USER_PREFIX = "storage-bench-";
const MAX_SAMPLES = 5_000_000;
const NO_COLUMNS = decodeFrameColumns(encodeFrameColumns([]));

/**
 * `POST /bench/storage?layout=old|new|encode|none&shape=I&samples=N`: writes N samples of data shape I to D1 the way a
 * flush does, in flush batches of FLUSH_BATCH_SIZE samples of STORAGE_FRAME_SAMPLES-sample frames: `new` through
 * the real writeFlushBatch (chunk rows), `old` through 0.1's per-sample statement, `encode` only builds the chunk
 * rows (chunkRows, no D1), `none` only builds the frames (the baseline the benchmark subtracts from the server CPU). Answers D1's rows_written summed over the batches.
 */
export async function writeStorageSamples(env: Env, url: URL): Promise<Response> {
  const layout = url.searchParams.get("layout") ?? "";
  const shapeIndex = Number(url.searchParams.get("shape"));
  const shape = STORAGE_SHAPES[shapeIndex];
  const samples = Number(url.searchParams.get("samples"));
  if (!["old", "new", "encode", "none"].includes(layout) || !shape || !Number.isInteger(samples)) {
    return Response.json(
      {
        type: "error",
        code: "invalid",
        message: "layout=old|new|encode|none, shape=<index> and samples=N are required",
      },
      { status: 400 },
    );
  }
  if (samples < 1 || samples > MAX_SAMPLES) {
    return Response.json(
      { type: "error", code: "invalid", message: `samples must be 1 to ${MAX_SAMPLES}` },
      { status: 400 },
    );
  }
  const userId = `${STORAGE_USER_PREFIX}${shapeIndex}`;
  const batchSize = getConfig(env).flushBatchSize;
  const next = shape.stream();
  const results: D1Result[] = [];
  const db = recording(env.DB, results);
  let chunks = 0;
  let seq = 0;
  for (let done = 0; done < samples; ) {
    const pieces: (FrameSlice & OldLayoutPiece)[] = [];
    for (let inBatch = 0; inBatch < batchSize && done < samples; ) {
      const count = Math.min(STORAGE_FRAME_SAMPLES, samples - done, batchSize - inBatch);
      // The samples as a relay's JSON carries them (no -0), in both forms the commit stores (the baseline
      // `none` builds them too): the flush reads the columns, 0.1's the text.
      const samplesJson = JSON.stringify(Array.from({ length: count }, next));
      const columns = encodeFrameColumns(JSON.parse(samplesJson));
      seq += 1;
      // Reading the columns back is the flush's work (selectForFlush): outside the baseline.
      const slice: FrameSlice = {
        relayId: "r1",
        sessionId: "s1",
        seq,
        firstIdx: 0,
        ...(layout === "new" || layout === "encode" ? decodeFrameColumns(columns) : NO_COLUMNS),
      };
      pieces.push({ ...slice, samplesJson });
      inBatch += count;
      done += count;
    }
    if (layout === "new") chunks += (await writeFlushBatch(db, userId, pieces, [])).sample_chunks;
    else if (layout === "old") await writeOldLayoutBatch(db, userId, pieces);
    else if (layout === "encode") chunks += (await chunkRows(pieces)).length;
  }
  const rowsWritten = results.reduce((sum, r) => sum + (r.meta.rows_written ?? 0), 0);
  return Response.json({ layout, samples, batchSize, rowsWritten, statements: results.length, chunks });
}

/** `POST /bench/storage-reset`: deletes the storage benchmark's rows from both layouts' tables. */
export async function resetStorageSamples(env: Env): Promise<Response> {
  const range = [STORAGE_USER_PREFIX, `${STORAGE_USER_PREFIX}~`];
  await env.DB.batch([
    env.DB.prepare("DELETE FROM samples WHERE user_id >= ?1 AND user_id < ?2").bind(...range),
    env.DB.prepare("DELETE FROM sample_chunks WHERE user_id >= ?1 AND user_id < ?2").bind(...range),
  ]);
  return Response.json({ reset: true });
}

/** The D1 binding with every batch's results recorded (rows_written is what Cloudflare bills). */
function recording(db: D1Database, results: D1Result[]): D1Database {
  return {
    prepare: (query: string) => db.prepare(query),
    batch: async <T>(statements: D1PreparedStatement[]) => {
      const answer = await db.batch<T>(statements);
      results.push(...answer);
      return answer;
    },
  } as D1Database;
}
