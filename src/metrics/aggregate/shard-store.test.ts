import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { batch, userGauges } from "../../../test/metrics/support";
import { DURATION_BUCKETS_S } from "../catalogue";
import { OTHER_USER } from "../wire";
import { GAUGE_TTL_MS, rosterLimit, SENDER_TTL_MS, ShardStore, USER_LABEL_IDLE_MS } from "./shard-store";

/** A fresh MetricsShard's storage, wrapped in a ShardStore (as the object itself does). */
async function withStore<T>(name: string, fn: (store: ShardStore) => T): Promise<T> {
  const stub = env.METRICS_SHARD.get(env.METRICS_SHARD.idFromName(name));
  return runInDurableObject(stub, (_instance, state) => fn(new ShardStore(state.storage)));
}

const counter = (store: ShardStore, name: string, labels: Record<string, string>) =>
  store.state().counters.find((c) => c.name === name && JSON.stringify(c.labels) === JSON.stringify(labels))
    ?.value;

describe("ShardStore: exactly-once", () => {
  it("applies a batch once: the retry of a batch whose answer was lost changes nothing", async () => {
    await withStore("once", (store) => {
      const b = batch("user:a:e1", {
        counters: [{ name: "db_writes", labels: { table: "samples" }, value: 5 }],
      });
      expect(store.apply(b, 10)).toMatchObject({ applied: true, duplicate: false });
      expect(store.apply(b, 10)).toMatchObject({ applied: false, duplicate: true });
      expect(store.apply({ ...b, seq: b.seq - 1 }, 10)).toMatchObject({ duplicate: true });
      expect(counter(store, "db_writes", { table: "samples" })).toBe(5);
      store.apply({ ...b, seq: b.seq + 1 }, 10);
      expect(counter(store, "db_writes", { table: "samples" })).toBe(10);
    });
  });

  it("remembers applied seqs across eviction (SQLite, not memory)", async () => {
    const b = batch("user:b:e1", { counters: [{ name: "sessions_created", labels: {}, value: 1 }] });
    await withStore("evict", (store) => store.apply(b, 10));
    await evictDurableObject(env.METRICS_SHARD.get(env.METRICS_SHARD.idFromName("evict")));
    await withStore("evict", (store) => {
      expect(store.apply(b, 10).duplicate).toBe(true);
      expect(counter(store, "sessions_created", {})).toBe(1);
    });
  });

  it("refuses (and counts) a batch older than the sender memory, which might have been applied already", async () => {
    await withStore("stale", (store) => {
      const b = batch("user:c:e1", { createdAt: Date.now() - SENDER_TTL_MS });
      expect(store.apply(b, 10)).toMatchObject({ applied: false, refused: ["stale_batch"] });
      expect(counter(store, "metrics_refused", { reason: "stale_batch" })).toBe(1);
    });
  });

  it("forgets a sender after SENDER_TTL_MS of silence (bounded state)", async () => {
    await withStore("senders", (store) => {
      const now = Date.now();
      store.apply(batch("isolate:x"), 10, now);
      store.housekeeping(now + SENDER_TTL_MS + 1);
      // A new batch of that sender with seq 1 is applied: the sender is unknown again.
      const later = now + SENDER_TTL_MS + 2;
      expect(store.apply({ ...batch("isolate:x"), seq: 1, createdAt: later }, 10, later).applied).toBe(true);
    });
  });
});

describe("ShardStore: histograms", () => {
  it("merges bucket by bucket", async () => {
    await withStore("hist", (store) => {
      const counts = (i: number) => DURATION_BUCKETS_S.map((_, j) => (j === i ? 1 : 0)).concat([0]);
      const h = (i: number, sum: number) => ({
        name: "db_write_duration_seconds",
        labels: { table: "samples" },
        boundaries: [...DURATION_BUCKETS_S],
        counts: counts(i),
        sum,
        count: 1,
      });
      store.apply(batch("s1", { histograms: [h(0, 0.001)] }), 10);
      store.apply(batch("s2", { histograms: [h(0, 0.0005), h(3, 0.01)] }), 10);
      const [merged] = store.state().histograms;
      expect(merged?.counts.slice(0, 4)).toEqual([2, 0, 0, 1]);
      expect(merged?.count).toBe(3);
      expect(merged?.sum).toBeCloseTo(0.0115);
    });
  });

  it("refuses, logs and counts a histogram with other boundaries instead of throwing", async () => {
    await withStore("hist-bad", (store) => {
      const bad = {
        name: "db_write_duration_seconds",
        labels: { table: "samples" },
        boundaries: [1, 2],
        counts: [1, 0, 0],
        sum: 0.5,
        count: 1,
      };
      const result = store.apply(
        batch("s1", {
          histograms: [bad],
          counters: [{ name: "db_writes", labels: { table: "samples" }, value: 1 }],
        }),
        10,
      );
      expect(result).toMatchObject({
        applied: true,
        refused: ["histogram_boundaries:db_write_duration_seconds"],
      });
      expect(store.state().histograms).toEqual([]);
      expect(counter(store, "db_writes", { table: "samples" })).toBe(1);
      expect(counter(store, "metrics_refused", { reason: "histogram_boundaries" })).toBe(1);
    });
  });
});

describe("ShardStore: user_id label slots (counters)", () => {
  const received = (userId: string, value = 1) => ({
    name: "messages_received",
    labels: { message_type: "samples", user_id: userId },
    value,
  });

  it("gives slots to the first users while free; the rest add up under _other", async () => {
    await withStore("slots", (store) => {
      for (const u of ["a", "b", "c", "d"])
        store.apply(batch(`user:${u}`, { counters: [received(u, 2)] }), 2);
      store.apply(batch("user:a", { counters: [received("a", 1)] }), 2);
      const byUser = Object.fromEntries(store.state().counters.map((c) => [c.labels.user_id, c.value]));
      expect(byUser).toEqual({ a: 3, b: 2, [OTHER_USER]: 4 });
    });
  });

  it("keeps _other monotonic: an idle user folds into _other, a later user's new deltas never leave it", async () => {
    await withStore("fold", (store) => {
      const t0 = Date.now();
      store.apply(batch("user:a", { counters: [received("a", 5)] }), 1, t0);
      store.apply(batch("user:b", { counters: [received("b", 3)] }), 1, t0);
      expect(counter(store, "messages_received", { message_type: "samples", user_id: OTHER_USER })).toBe(3);
      const later = t0 + USER_LABEL_IDLE_MS + 1;
      expect(store.housekeeping(later).foldedUsers).toBe(1);
      // a's 5 moved into _other: the sum over all series is unchanged and _other only grew.
      expect(counter(store, "messages_received", { message_type: "samples", user_id: OTHER_USER })).toBe(8);
      expect(counter(store, "messages_received", { message_type: "samples", user_id: "a" })).toBeUndefined();
      // The freed slot goes to the next user seen; what it added to _other before stays there.
      store.apply(batch("user:b", { counters: [received("b", 1)] }), 1, later);
      expect(counter(store, "messages_received", { message_type: "samples", user_id: "b" })).toBe(1);
      expect(counter(store, "messages_received", { message_type: "samples", user_id: OTHER_USER })).toBe(8);
    });
  });

  it("splits METRICS_USER_LABEL_LIMIT across shards so that the shares add up to the limit", () => {
    for (const [limit, shards] of [
      [100, 4],
      [101, 4],
      [3, 4],
      [7, 3],
    ] as const) {
      const total = Array.from({ length: shards }, (_, i) => rosterLimit(limit, shards, i)).reduce(
        (a, b) => a + b,
      );
      expect(total).toBe(limit);
    }
  });
});

describe("ShardStore: gauge snapshots", () => {
  it("keeps the latest snapshot per object, drops an all-zero one, and ignores an older one", async () => {
    await withStore("gauges", (store) => {
      const t = Date.now();
      store.apply(batch("user:a:e", { gauges: userGauges("a", 10, 100, t) }), 10, t);
      store.apply(batch("user:a:e", { gauges: userGauges("a", 20, 100, t + 1) }), 10, t);
      store.apply(batch("user:a:e2", { gauges: userGauges("a", 99, 100, t - 5) }), 10, t);
      expect(store.state(t).gauges.map((g) => g.points[1]?.value)).toEqual([20]);
      store.apply(
        batch("user:a:e", { gauges: { owner: "user:a", userId: "a", at: t + 2, points: [] } }),
        10,
        t,
      );
      expect(store.state(t).gauges).toEqual([]);
    });
  });

  it("expires the snapshot of an object that stopped refreshing after GAUGE_TTL_MS", async () => {
    await withStore("gauges-ttl", (store) => {
      const t = Date.now();
      store.apply(batch("user:z:e", { gauges: userGauges("z", 1, 100, t) }), 10, t);
      expect(store.state(t + GAUGE_TTL_MS - 1).gauges).toHaveLength(1);
      expect(store.state(t + GAUGE_TTL_MS).gauges).toHaveLength(0);
      expect(store.housekeeping(t + GAUGE_TTL_MS).expiredGauges).toBe(1);
    });
  });
});
