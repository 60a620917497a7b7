import { describe, expect, it } from "vitest";
import { LATENCY_BUCKETS_S } from "../catalogue";
import type { DeltaBatch } from "../wire";
import { MemoryOutbox } from "./memory-outbox";
import { OUTBOX_LIMIT } from "./outbox";

const body = (i: number) => ({
  counters: [{ name: "http_requests", labels: { route: "/x", status: String(200 + (i % 2)) }, value: 1 }],
  histograms: [
    {
      name: "ws_message_latency_seconds",
      labels: { message_type: "ack" },
      boundaries: [...LATENCY_BUCKETS_S],
      counts: LATENCY_BUCKETS_S.map((_, b) => (b === i % LATENCY_BUCKETS_S.length ? 1 : 0)).concat(0),
      sum: 0.001,
      count: 1,
    },
  ],
  gauges: { owner: "isolate", at: i, points: [{ name: "http_requests_in_progress", labels: {}, value: i }] },
});

describe("Outbox", () => {
  it("merges batches into the newest waiting one when full: bounded, and every count is delivered", async () => {
    const outbox = new MemoryOutbox("test");
    const batches = OUTBOX_LIMIT + 750;
    for (let i = 0; i < batches; i++) outbox.enqueue(0, body(i));
    expect(outbox.size()).toBe(OUTBOX_LIMIT);

    const delivered: DeltaBatch[] = [];
    expect(await outbox.drain(async (_shard, batch) => void delivered.push(batch))).toBe(true);
    const total = (status: string) =>
      delivered
        .flatMap((b) => b.counters)
        .filter((c) => c.labels.status === status)
        .reduce((n, c) => n + c.value, 0);
    expect(total("200") + total("201")).toBe(batches);
    expect(total("201")).toBe(batches / 2);
    const histogramCount = delivered.flatMap((b) => b.histograms).reduce((n, h) => n + h.count, 0);
    const bucketTotal = delivered
      .flatMap((b) => b.histograms)
      .reduce((n, h) => n + h.counts.reduce((a, c) => a + c, 0), 0);
    expect([histogramCount, bucketTotal]).toEqual([batches, batches]);
    // The newest gauge snapshot is the one that stays.
    expect(delivered.at(-1)?.gauges?.at).toBe(batches - 1);
    // Seqs stay strictly increasing: the shard's dedup by (sender, seq) still holds.
    expect(delivered.map((b) => b.seq)).toEqual(delivered.map((_, i) => i + 1));
  });
});
