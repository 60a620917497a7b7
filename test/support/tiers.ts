import { env } from "cloudflare:workers";
import { type ChunkSample, decodeChunk } from "../../src/storage/chunk/chunk-codec";
import { chunkRow } from "../../src/storage/d1/chunk-rows";

const COLUMNS =
  "user_id, relay_id, ch, first_seq, first_idx, session_id, n, t_min, t_max, v_min, v_max, v_sum, v_first, v_last";

export interface TestChunk {
  relay: string;
  session: string;
  ch: string;
  /** In (seq, idx) order, as the flusher writes them. */
  samples: ChunkSample[];
}

/** Writes warm chunks (`sample_chunks` rows) in one D1 batch, into `db` (the `DB` database unless said). */
export async function putWarmChunks(
  user: string,
  chunks: readonly TestChunk[],
  db: D1Database = env.DB,
): Promise<void> {
  const statements = [];
  for (const c of chunks) statements.push(await warmChunkStatement(db, user, c));
  for (let i = 0; i < statements.length; i += 500) await db.batch(statements.slice(i, i + 500));
}

async function warmChunkStatement(db: D1Database, user: string, { relay, session, ch, samples }: TestChunk) {
  const r = await chunkRow(relay, session, ch, samples);
  return db
    .prepare(`INSERT INTO sample_chunks (${COLUMNS}, data) VALUES (${"?, ".repeat(14)}?)`)
    .bind(
      user,
      relay,
      ch,
      r.firstSeq,
      r.firstIdx,
      session,
      r.n,
      r.tMin,
      r.tMax,
      r.vMin,
      r.vMax,
      r.vSum,
      r.vFirst,
      r.vLast,
      r.data,
    );
}

let objects = 0;

/**
 * The cold move as the tier job does it, for tests: the user's warm chunks (those with t_min in [from, to)) are
 * packed into one R2 object, indexed in `cold_chunks` and deleted from `sample_chunks` in one D1 batch.
 */
export async function moveToCold(user: string, from = 0, to = Number.MAX_SAFE_INTEGER): Promise<number> {
  const { results } = await env.DB.prepare(
    `SELECT ${COLUMNS}, data FROM sample_chunks WHERE user_id = ? AND t_min >= ? AND t_min < ? ORDER BY t_min`,
  )
    .bind(user, from, to)
    .all<Record<string, unknown> & { data: ArrayBuffer; t_min: number }>();
  if (results.length === 0) return 0;
  const key = `test/${user}/${++objects}`;
  // A few bytes of padding between chunks, so that range reads must use the offsets.
  const parts: Uint8Array[] = [];
  let offset = 3;
  parts.push(new Uint8Array(3));
  const index = results.map((row) => {
    const bytes = new Uint8Array(row.data);
    const at = offset;
    parts.push(bytes, new Uint8Array(5));
    offset += bytes.length + 5;
    return { row, at, length: bytes.length };
  });
  const body = new Uint8Array(offset);
  let p = 0;
  for (const part of parts) {
    body.set(part, p);
    p += part.length;
  }
  await env.COLD.put(key, body);
  const cols = COLUMNS.split(", ");
  await env.DB.batch([
    ...index.map(({ row, at, length }) =>
      env.DB.prepare(
        `INSERT INTO cold_chunks (${COLUMNS}, object_key, byte_offset, byte_length) VALUES (${"?, ".repeat(16)}?)`,
      ).bind(...cols.map((c) => row[c]), key, at, length),
    ),
    env.DB.prepare("DELETE FROM sample_chunks WHERE user_id = ? AND t_min >= ? AND t_min < ?").bind(
      user,
      from,
      to,
    ),
  ]);
  return results.length;
}

/**
 * Compaction as the merge job does it, for tests: every warm chunk of each series (relay, session, channel) of
 * the user replaced by one chunk of all their samples in (seq, idx) order, in one D1 batch.
 */
export async function mergeWarm(user: string): Promise<void> {
  const { results } = await env.DB.prepare(
    "SELECT relay_id, session_id, ch, data FROM sample_chunks WHERE user_id = ?",
  )
    .bind(user)
    .all<{ relay_id: string; session_id: string; ch: string; data: ArrayBuffer }>();
  const series = new Map<string, TestChunk>();
  for (const row of results) {
    const key = `${row.relay_id}\n${row.session_id}\n${row.ch}`;
    const s = series.get(key) ?? { relay: row.relay_id, session: row.session_id, ch: row.ch, samples: [] };
    s.samples.push(...(await decodeChunk(new Uint8Array(row.data))));
    series.set(key, s);
  }
  const statements = [env.DB.prepare("DELETE FROM sample_chunks WHERE user_id = ?").bind(user)];
  for (const s of series.values()) {
    s.samples.sort((a, b) => a.seq - b.seq || a.idx - b.idx);
    statements.push(await warmChunkStatement(env.DB, user, s));
  }
  await env.DB.batch(statements);
}
