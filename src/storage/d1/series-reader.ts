import { ColdObjectMissing, chunkBytes } from "../read/chunk-bytes";
import { type ChunkMeta, listChunks, warmBytes } from "../read/chunk-source";
import { type CorruptChunk, decodeChunkBytes, type RangeQuery } from "./reader";

/** Most buckets one series answer may hold (as Prometheus' query_range: 11,000 points per series). */
export const MAX_SERIES_BUCKETS = 11_000;
/**
 * Chunks one series request decodes at most (up to 4,096 samples each): past that, the answer ends at a bucket
 * edge with `next_from`, so a request costs about as much as a samples page whatever the range.
 */
export const SERIES_CHUNK_BUDGET = 64;
/** Re-reads after chunks moved or merged between the listing and a fetch of their bytes. */
const RETRIES = 3;

/** One bucket of a downsampled channel: `t` is the bucket's start. */
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

/** A value with its read-order position (t, relay_id, seq, idx). */
interface Placed {
  t: number;
  relay: string;
  seq: number;
  idx: number;
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
  return (
    a.t < b.t ||
    (a.t === b.t &&
      (a.relay < b.relay || (a.relay === b.relay && (a.seq < b.seq || (a.seq === b.seq && a.idx < b.idx)))))
  );
}

class Moved extends Error {}

export interface SeriesAnswer {
  series: Series[];
  errors: CorruptChunk[];
  /** Chunks decoded (the rest were added from their statistics without fetching their bytes). */
  chunksDecoded: number;
  /** The budget ended the answer before `to`: ask again from here (a bucket edge) for the rest. */
  nextFrom: number | null;
}

/**
 * The channels of [from, to) in buckets of `step` ms, from both tiers. A chunk whose t range lies inside one
 * bucket adds its statistics columns without its bytes being read (neither D1 blob nor R2 range), unless
 * another chunk of the same relay shares that bucket's first or last t: the statistics do not say which of the
 * two comes first in read order, so those chunks are decoded. Chunks crossing a bucket edge are decoded, so
 * the work is bounded by buckets × series, not by samples, and by SERIES_CHUNK_BUDGET: past it the answer
 * stops at a bucket edge with `nextFrom`. One listing query sees one state of the tiers; a chunk moved or
 * merged before its bytes are fetched restarts the read.
 */
export async function readSeries(
  db: D1Database,
  q: RangeQuery & { channels: readonly string[]; step: number },
  cold: R2Bucket | null = null,
): Promise<SeriesAnswer> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await readSeriesOnce(db, q, cold);
    } catch (err) {
      if (!(err instanceof Moved || err instanceof ColdObjectMissing) || attempt >= RETRIES) throw err;
    }
  }
}

async function readSeriesOnce(
  db: D1Database,
  q: RangeQuery & { channels: readonly string[]; step: number },
  cold: R2Bucket | null,
): Promise<SeriesAnswer> {
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
  let decoded = 0;
  const addDecoded = async (metas: ChunkMeta[], bytes: Map<ChunkMeta, Uint8Array | null>) => {
    for (const meta of metas) {
      const data = bytes.get(meta);
      if (!data) throw new Moved();
      decoded++;
      const samples = await decodeChunkBytes(meta, data);
      if (!Array.isArray(samples)) {
        errors.push(samples);
        continue;
      }
      for (const { seq, idx, t, v } of samples) {
        if (t < q.from || t >= q.to) continue;
        const at = { t, relay: meta.relay_id, seq, idx, v };
        add(meta.ch, bucketOf(t), { count: 1, min: v, max: v, sum: v, first: at, last: at });
      }
    }
  };

  // Metadata first: the bytes of only the chunks this answer decodes are fetched after the budget's cut.
  const { from, to, step } = q;
  const metas = await listChunks(db, { ...q, data: "none" }, -1);
  const bytesOf = async (list: ChunkMeta[]) =>
    new Map<ChunkMeta, Uint8Array | null>([
      ...(await warmBytes(
        db,
        q.userId,
        list.filter((m) => m.object_key === null),
      )),
      ...(await chunkBytes(
        cold,
        list.filter((m) => m.object_key !== null),
      )),
    ]);
  const inside = (m: ChunkMeta) =>
    m.t_min >= from && m.t_max < to && bucketOf(m.t_min) === bucketOf(m.t_max) && m.v_sum !== null;
  const straddling = metas.filter((m) => !inside(m));
  // Over the budget: answer the buckets before the first bucket edge past the budget's chunks (at least one).
  if (straddling.length > SERIES_CHUNK_BUDGET) {
    const starts = straddling.map((m) => m.t_min).sort((a, b) => a - b);
    const cut = from + Math.max(1, bucketOf(starts[SERIES_CHUNK_BUDGET] as number)) * step;
    if (cut < to) return { ...(await readSeriesOnce(db, { ...q, to: cut }, cold)), nextFrom: cut };
  }
  await addDecoded(straddling, await bytesOf(straddling));

  const byBucket = new Map<string, ChunkMeta[]>();
  for (const m of metas.filter(inside)) {
    const k = `${m.ch}\n${bucketOf(m.t_min)}`;
    byBucket.set(k, [...(byBucket.get(k) ?? []), m]);
  }
  const tied = new Set<ChunkMeta>();
  for (const list of byBucket.values()) {
    const first = list[0] as ChunkMeta;
    const acc = accs.get(first.ch)?.get(bucketOf(first.t_min));
    for (const edge of ["first", "last"] as const) {
      const pos = (m: ChunkMeta) => ({ t: edge === "first" ? m.t_min : m.t_max, relay: m.relay_id });
      const parts = list.map(pos);
      if (acc) parts.push({ t: acc[edge].t, relay: acc[edge].relay });
      const pick = (a: { t: number; relay: string }, b: { t: number; relay: string }) =>
        edge === "first"
          ? a.t < b.t || (a.t === b.t && a.relay < b.relay)
          : a.t > b.t || (a.t === b.t && a.relay > b.relay);
      const winner = parts.reduce((w, p) => (pick(p, w) ? p : w));
      const same = (p: { t: number; relay: string }) => p.t === winner.t && p.relay === winner.relay;
      if (parts.filter(same).length > 1) for (const m of list) if (same(pos(m))) tied.add(m);
    }
  }
  const toDecode = [...tied];
  await addDecoded(toDecode, await bytesOf(toDecode));
  for (const m of metas) {
    if (!inside(m) || tied.has(m)) continue;
    add(m.ch, bucketOf(m.t_min), {
      count: m.n,
      min: m.v_min,
      max: m.v_max,
      sum: m.v_sum as number,
      first: { t: m.t_min, relay: m.relay_id, seq: m.first_seq, idx: m.first_idx, v: m.v_first },
      last: { t: m.t_max, relay: m.relay_id, seq: m.first_seq, idx: m.first_idx, v: m.v_last },
    });
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
  return { series, errors, chunksDecoded: decoded, nextFrom: null };
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
        `SELECT ch, ${bucket} AS b, MIN(t) AS t, relay_id, seq, idx, v FROM samples ${where} GROUP BY ch, b`,
      )
      .bind(...params),
    db
      .prepare(
        `SELECT ch, ${bucket} AS b, MAX(t) AS t, relay_id, seq, idx, v FROM samples ${where} GROUP BY ch, b`,
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
      first: {
        t: Number(f.t),
        relay: String(f.relay_id),
        seq: Number(f.seq),
        idx: Number(f.idx),
        v: Number(f.v),
      },
      last: {
        t: Number(l.t),
        relay: String(l.relay_id),
        seq: Number(l.seq),
        idx: Number(l.idx),
        v: Number(l.v),
      },
    });
  }
}
