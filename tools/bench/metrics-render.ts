import { percentile } from "../sim/latency.ts";
import type { BenchServer } from "./wrangler-server.ts";

export interface RenderResult {
  /** When in the run it was measured. */
  when: string;
  /** Series seeded on top of what the benchmark itself recorded. */
  seeded: number;
  /** Sample lines in the answer (every series; a histogram series counts its buckets, sum and count). */
  lines: number;
  bytes: number;
  /** GET /metrics round trip: read every shard, merge, serialize (ms). */
  p50Ms: number;
  maxMs: number;
  /** Scrapes that did not answer 200 (the first error is kept). */
  failed: number;
  firstError: string | null;
}

export const SCRAPES = 7;
/** Series already seeded into each server's shards, by its URL (seeding only ever adds). */
const seededSeries = new Map<string, number>();

/**
 * Times `GET /metrics` after seeding the metric shards up to each of `sizes` extra series (through the
 * benchmark route that delivers batches the way the pipeline does).
 */
export async function measureMetricsRender(
  server: BenchServer,
  metricsToken: string,
  shards: number,
  sizes: number[],
  when: string,
): Promise<RenderResult[]> {
  const results: RenderResult[] = [];
  for (const size of sizes) {
    const seeded = seededSeries.get(server.url) ?? 0;
    if (size > seeded) {
      const url = new URL("/bench/seed-metrics", server.url);
      url.search = new URLSearchParams({
        from: String(seeded),
        to: String(size),
        shards: String(shards),
      }).toString();
      const res = await fetch(url, { method: "POST" });
      if (!res.ok) throw new Error(`seeding metrics answered ${res.status}: ${await res.text()}`);
      seededSeries.set(server.url, size);
    }
    const times: number[] = [];
    let text = "";
    let failed = 0;
    let firstError: string | null = null;
    for (let i = 0; i < SCRAPES; i++) {
      const startedAt = performance.now();
      const res = await fetch(`${server.url}/metrics`, {
        headers: { authorization: `Bearer ${metricsToken}` },
      });
      const body = await res.text();
      if (!res.ok) {
        failed++;
        firstError ??= `${res.status} after ${Math.round(performance.now() - startedAt)} ms: ${body.slice(0, 160)}`;
        continue;
      }
      text = body;
      times.push(performance.now() - startedAt);
    }
    times.sort((a, b) => a - b);
    results.push({
      when,
      seeded: size,
      lines: text.split("\n").filter((l) => l && !l.startsWith("#")).length,
      bytes: Buffer.byteLength(text),
      p50Ms: Math.round(percentile(times, 50) * 10) / 10,
      maxMs: Math.round((times[times.length - 1] ?? 0) * 10) / 10,
      failed,
      firstError,
    });
  }
  return results;
}
