import type { FlushPiece } from "../object/sample-buffer";
import type { SessionRowForD1 } from "../object/sessions";

/**
 * Writes one flush batch to D1 in a single `DB.batch()` (one implicit transaction: all or nothing).
 *
 * D1 limits (https://developers.cloudflare.com/d1/platform/limits/): 100 bound parameters and 100 KB of SQL
 * per statement, 1,000 queries per invocation. A multi-row VALUES list would be capped at ~12 samples per
 * statement by the parameter limit, so each statement instead binds two parameters, the user id and one JSON
 * array of frames, and expands it with json_each(): a batch of thousands of samples is a few statements.
 * Each JSON parameter is kept under MAX_JSON_PARAM_CHARS. The samples primary key (user, relay, seq, idx) with
 * INSERT OR IGNORE makes a replayed batch insert nothing twice.
 */
export const MAX_JSON_PARAM_CHARS = 90_000;

// One element per frame piece: {"r": relay_id, "s": session_id, "q": seq, "o": offset of x[0], "x": samples}.
// The pieces are unpacked once into a MATERIALIZED CTE: read through the join directly, every sample row would
// parse its whole piece again for each frame field (quadratic in the piece size).
const INSERT_SAMPLES = `WITH f AS MATERIALIZED (
  SELECT json_extract(value, '$.r') AS r, json_extract(value, '$.s') AS s, json_extract(value, '$.q') AS q,
         json_extract(value, '$.o') AS o, json_extract(value, '$.x') AS x
  FROM json_each(?2)
)
INSERT OR IGNORE INTO samples (user_id, relay_id, session_id, seq, idx, t, ch, v)
SELECT ?1, f.r, f.s, f.q, f.o + e.key, json_extract(e.value, '$.t'), json_extract(e.value, '$.ch'),
       json_extract(e.value, '$.v')
FROM f, json_each(f.x) AS e`;

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

/** Rows written per table. */
export type FlushedRows = { samples: number; sessions: number };

export async function writeFlushBatch(
  db: D1Database,
  userId: string,
  pieces: FlushPiece[],
  sessions: SessionRowForD1[],
): Promise<FlushedRows> {
  const statements: D1PreparedStatement[] = [];
  for (const chunk of packJsonArrays(pieces.flatMap(pieceEntries))) {
    statements.push(db.prepare(INSERT_SAMPLES).bind(userId, chunk));
  }
  const sessionEntries = sessions.map(({ version: _, ...row }) => JSON.stringify(row));
  for (const chunk of packJsonArrays(sessionEntries)) {
    statements.push(db.prepare(UPSERT_SESSIONS).bind(userId, chunk));
  }
  if (statements.length > 0) await db.batch(statements);
  const samples = pieces.reduce((sum, p) => sum + p.count, 0);
  return { samples, sessions: sessions.length };
}

/** The JSON elements of one piece; a piece too large for one parameter is split, each part with its offset. */
function pieceEntries({ frame, offset, count }: FlushPiece): string[] {
  const head = `{"r":${JSON.stringify(frame.relayId)},"s":${JSON.stringify(frame.sessionId)},"q":${frame.seq},"o":`;
  const whole = offset === 0 && count === frame.count;
  if (whole && head.length + frame.samplesJson.length + 16 <= MAX_JSON_PARAM_CHARS) {
    return [`${head}0,"x":${frame.samplesJson}}`];
  }
  const samples = (JSON.parse(frame.samplesJson) as unknown[]).slice(offset, offset + count);
  const entries: string[] = [];
  let partStart = offset;
  let part: string[] = [];
  let partChars = head.length + 32;
  for (const sample of samples) {
    const text = JSON.stringify(sample);
    if (part.length > 0 && partChars + text.length + 1 > MAX_JSON_PARAM_CHARS) {
      entries.push(`${head}${partStart},"x":[${part.join(",")}]}`);
      partStart += part.length;
      part = [];
      partChars = head.length + 32;
    }
    part.push(text);
    partChars += text.length + 1;
  }
  if (part.length > 0) entries.push(`${head}${partStart},"x":[${part.join(",")}]}`);
  return entries;
}

/** Joins JSON elements into as few arrays as fit MAX_JSON_PARAM_CHARS each. */
function packJsonArrays(entries: string[]): string[] {
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
