import { type ChunkRecord, type CorruptChunk, chunksInRange, decodeRecord, type RangeQuery } from "./reader";

/** Most buckets one series answer may hold (as Prometheus' query_range: 11,000 points per series). */
export const MAX_SERIES_BUCKETS = 11_000;

/** One bucket of a downsampled channel (SPEC §2): `t` is the bucket's start. */
export interface Bucket {
  t: number;
  count: number;
  min: number;
  max: number;
  mean: number;
  first: number;
  last: number;
}

export interface Series {
  ch: string;
  buckets: Bucket[];
}

/** A value with its read-order position (t, relay_id, seq). */
interface Placed {
  t: number;
  relay: string;
  seq: number;
  v: number;
}

/** A bucket being filled. */
interface Acc {
  count: number;
  min: number;
  max: number;
  sum: number;
  first: Placed;
  last: Placed;
}

function before(a: Placed, b: Placed): boolean {
  return a.t < b.t || (a.t === b.t && (a.relay < b.relay || (a.relay === b.relay && a.seq < b.seq)));
}

/**
 * The channels of [from, to) in buckets of `step` ms. A chunk whose t range lies inside one bucket adds its
 * plain-column statistics without being decoded; the others, and 0.1's `samples` rows, add sample by sample.
 */
export async function readSeries(
  db: D1Database,
  q: RangeQuery & { channels: readonly string[]; step: number },
): Promise<{ series: Series[]; errors: CorruptChunk[] }> {
  const accs = new Map<string, Map<number, Acc>>(q.channels.map((ch) => [ch, new Map()]));
  const bucketOf = (t: number) => Math.floor((t - q.from) / q.step);
  const add = (ch: string, bucket: number, part: Acc) => {
    const buckets = accs.get(ch) as Map<number, Acc>;
    const acc = buckets.get(bucket);
    if (!acc) {
      buckets.set(bucket, { ...part });
      return;
    }
    acc.count += part.count;
    acc.min = Math.min(acc.min, part.min);
    acc.max = Math.max(acc.max, part.max);
    acc.sum += part.sum;
    if (before(part.first, acc.first)) acc.first = part.first;
    if (!before(part.last, acc.last)) acc.last = part.last;
  };
  const errors: CorruptChunk[] = [];
  for await (const page of chunksInRange(db, q)) {
    for (const record of page) await addChunk(record, q, bucketOf, add, errors);
  }
  await addLegacyRows(db, q, bucketOf, add);
  const series = q.channels.map((ch) => ({
    ch,
    buckets: [...(accs.get(ch) as Map<number, Acc>)]
      .sort(([a], [b]) => a - b)
      .map(([bucket, a]) => ({
        t: q.from + bucket * q.step,
        count: a.count,
        min: a.min,
        max: a.max,
        mean: a.sum / a.count,
        first: a.first.v,
        last: a.last.v,
      })),
  }));
  return { series, errors };
}

async function addChunk(
  record: ChunkRecord,
  q: RangeQuery,
  bucketOf: (t: number) => number,
  add: (ch: string, bucket: number, part: Acc) => void,
  errors: CorruptChunk[],
): Promise<void> {
  const inside = record.t_min >= q.from && record.t_max < q.to;
  if (inside && bucketOf(record.t_min) === bucketOf(record.t_max) && record.v_sum !== null) {
    add(record.ch, bucketOf(record.t_min), {
      count: record.n,
      min: record.v_min,
      max: record.v_max,
      sum: record.v_sum,
      first: { t: record.t_min, relay: record.relay_id, seq: record.first_seq, v: record.v_first },
      last: { t: record.t_max, relay: record.relay_id, seq: record.first_seq, v: record.v_last },
    });
    return;
  }
  const decoded = await decodeRecord(record);
  if (!Array.isArray(decoded)) {
    errors.push(decoded);
    return;
  }
  for (const { seq, t, v } of decoded) {
    if (t < q.from || t >= q.to) continue;
    const at = { t, relay: record.relay_id, seq, v };
    add(record.ch, bucketOf(t), { count: 1, min: v, max: v, sum: v, first: at, last: at });
  }
}

/** 0.1's one-row-per-sample table, aggregated in SQL per channel and bucket (empty once migrated). */
async function addLegacyRows(
  db: D1Database,
  q: RangeQuery & { channels: readonly string[]; step: number },
  bucketOf: (t: number) => number,
  add: (ch: string, bucket: number, part: Acc) => void,
): Promise<void> {
  const chIn = q.channels.map(() => "?").join(", ");
  const where = `WHERE user_id = ? AND t >= ? AND t < ? AND ch IN (${chIn})`;
  const params = [q.userId, q.from, q.to, ...q.channels];
  const bucket = `(t - ${Number(q.from)}) / ${Number(q.step)}`;
  // With one MIN() or MAX() aggregate, SQLite takes the bare columns from the row holding that extreme.
  const [totals, firsts, lasts] = await db.batch<Record<string, number | string>>([
    db
      .prepare(
        `SELECT ch, ${bucket} AS b, COUNT(*) AS n, MIN(v) AS lo, MAX(v) AS hi, SUM(v) AS s FROM samples ${where} GROUP BY ch, b`,
      )
      .bind(...params),
    db
      .prepare(
        `SELECT ch, ${bucket} AS b, MIN(t) AS t, relay_id, seq, v FROM samples ${where} GROUP BY ch, b`,
      )
      .bind(...params),
    db
      .prepare(
        `SELECT ch, ${bucket} AS b, MAX(t) AS t, relay_id, seq, v FROM samples ${where} GROUP BY ch, b`,
      )
      .bind(...params),
  ]);
  const key = (r: Record<string, number | string>) => `${r.ch}\n${r.b}`;
  const firstOf = new Map((firsts?.results ?? []).map((r) => [key(r), r]));
  const lastOf = new Map((lasts?.results ?? []).map((r) => [key(r), r]));
  for (const row of totals?.results ?? []) {
    const f = firstOf.get(key(row)) as Record<string, number | string>;
    const l = lastOf.get(key(row)) as Record<string, number | string>;
    add(String(row.ch), bucketOf(Number(f.t)), {
      count: Number(row.n),
      min: Number(row.lo),
      max: Number(row.hi),
      sum: Number(row.s),
      first: { t: Number(f.t), relay: String(f.relay_id), seq: Number(f.seq), v: Number(f.v) },
      last: { t: Number(l.t), relay: String(l.relay_id), seq: Number(l.seq), v: Number(l.v) },
    });
  }
}
