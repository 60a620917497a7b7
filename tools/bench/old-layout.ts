import type { FrameSlice } from "../../src/storage/d1/chunk-rows";
import { MAX_JSON_PARAM_CHARS, packJsonArrays } from "../../src/storage/d1/writer";

/**
 * The D1 write of release 0.1 (commit 7687c18, src/storage/d1-flush.ts), kept here only so the benchmark can
 * measure the old layout beside the new one in the same run: one `samples` row per sample (migrations/0001,
 * plus its (user_id, t) index), inserted from one JSON parameter per statement expanded with json_each().
 */

const INSERT_SAMPLES = `WITH f AS MATERIALIZED (
  SELECT json_extract(value, '$.r') AS r, json_extract(value, '$.s') AS s, json_extract(value, '$.q') AS q,
         json_extract(value, '$.o') AS o, json_extract(value, '$.x') AS x
  FROM json_each(?2)
)
INSERT OR IGNORE INTO samples (user_id, relay_id, session_id, seq, idx, t, ch, v)
SELECT ?1, f.r, f.s, f.q, f.o + e.key, json_extract(e.value, '$.t'), json_extract(e.value, '$.ch'),
       json_extract(e.value, '$.v')
FROM f, json_each(f.x) AS e`;

/** 0.1's sample statements of one flush batch, run as one `DB.batch()`; returns D1's results. */
export async function writeOldLayoutBatch(
  db: D1Database,
  userId: string,
  pieces: OldLayoutPiece[],
): Promise<D1Result[]> {
  const statements = packJsonArrays(pieces.flatMap(pieceEntries)).map((array) =>
    db.prepare(INSERT_SAMPLES).bind(userId, array),
  );
  return statements.length > 0 ? db.batch(statements) : [];
}

/** The JSON elements of one piece; a piece too large for one parameter is split, each part with its offset. */
/** A whole frame as 0.1 buffered it: its samples as JSON text. */
export type OldLayoutPiece = Pick<FrameSlice, "relayId" | "sessionId" | "seq"> & { samplesJson: string };

function pieceEntries({ relayId, sessionId, seq, samplesJson }: OldLayoutPiece): string[] {
  const head = `{"r":${JSON.stringify(relayId)},"s":${JSON.stringify(sessionId)},"q":${seq},"o":`;
  if (head.length + samplesJson.length + 16 <= MAX_JSON_PARAM_CHARS) return [`${head}0,"x":${samplesJson}}`];
  const samples = JSON.parse(samplesJson) as unknown[];
  const entries: string[] = [];
  let partStart = 0;
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
