import type { Env } from "../../src/env";
import { sendBatch } from "../../src/metrics/ship/send-batch.ts";
import type { DeltaBatch } from "../../src/metrics/wire.ts";

/**
 * `GET /bench/stored-count?prefix=P`: samples in D1 (chunk rows' counts) of the users whose id starts with P. The benchmark waits on
 * it for the buffers to drain between cells (a full read-back would cost more than the flush it waits for).
 * User ids are [A-Za-z0-9_.-], all below "~", so [P, P~) is exactly the prefix range.
 */
export async function countStoredSamples(env: Env, url: URL): Promise<Response> {
  const prefix = url.searchParams.get("prefix") ?? "";
  if (!prefix) return Response.json({ error: "prefix is required" }, { status: 400 });
  const row = await env.DB.prepare(
    "SELECT COALESCE(SUM(n), 0) AS n FROM sample_chunks WHERE user_id >= ?1 AND user_id < ?2",
  )
    .bind(prefix, `${prefix}~`)
    .first<{ n: number }>();
  return Response.json({ count: row?.n ?? 0 });
}

/**
 * `POST /bench/seed-metrics?from=A&to=B&shards=S`: adds counter series http_requests_total{route="/seed/i"}
 * for i in [A, B) to the metrics shards through their real delivery path, so that /metrics can be timed at
 * a known number of series.
 */
export async function seedMetricSeries(env: Env, url: URL): Promise<Response> {
  const from = Number(url.searchParams.get("from"));
  const to = Number(url.searchParams.get("to"));
  const shards = Number(url.searchParams.get("shards"));
  if (!Number.isInteger(from) || !Number.isInteger(to) || !(from < to) || !Number.isInteger(shards)) {
    return Response.json({ error: "from < to and shards are required integers" }, { status: 400 });
  }
  const batches: DeltaBatch[] = Array.from({ length: shards }, (_, shard) => ({
    sender: `bench-seed-${from}-${to}-${shard}`,
    seq: 1,
    createdAt: Date.now(),
    counters: [],
    histograms: [],
  }));
  for (let i = from; i < to; i++) {
    batches[i % shards]?.counters.push({
      name: "http_requests",
      labels: { method: "GET", route: `/seed/${i}`, status: "200" },
      value: 1,
    });
  }
  await Promise.all(batches.map((batch, shard) => sendBatch(env, shard, batch)));
  return Response.json({ seeded: to - from });
}
