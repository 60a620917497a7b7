import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { scrape, seriesValue } from "../../../test/metrics/support";
import type { Env } from "../../env";
import { type DeltaBatch, GAUGE_REFRESH_MS } from "../wire";
import type { UserGaugeSnapshot } from "./instruments";
import { ObjectMetrics } from "./object-metrics";

/** Runs `fn` with the SQLite storage of a fresh Durable Object (standing in for the user object's own). */
function withStorage<T>(name: string, fn: (storage: DurableObjectStorage) => Promise<T>): Promise<T> {
  const stub = env.METRICS_SHARD.get(env.METRICS_SHARD.idFromName(`storage-${name}`));
  return runInDurableObject(stub, (_instance, state) => fn(state.storage));
}

/** The real shards behind a fault: "down" refuses every call, "lose-answer" applies but then throws once. */
function faultyEnv(mode: "down" | "lose-answer"): Env & { calls: DeltaBatch[] } {
  let answersToLose = 1;
  const calls: DeltaBatch[] = [];
  const namespace = {
    idFromName: (name: string) => env.METRICS_SHARD.idFromName(name),
    get: (id: DurableObjectId) => ({
      async apply(batch: DeltaBatch, index: number) {
        calls.push(batch);
        if (mode === "down") throw new Error("shard unreachable");
        const result = await env.METRICS_SHARD.get(id).apply(batch, index);
        if (answersToLose-- > 0) throw new Error("timed out waiting for the answer");
        return result;
      },
    }),
  };
  return { ...env, METRICS_SHARD: namespace as unknown as Env["METRICS_SHARD"], calls };
}

const idle = (userId: string): UserGaugeSnapshot => ({
  userId,
  relayConnections: 0,
  consumerConnections: 0,
  bufferSize: 0,
  bufferCapacity: 10_000,
  activeSessions: 0,
  pendingWrites: { samples: 0, sessions: 0 },
});

const received = (text: string, userId: string) =>
  seriesValue(text, "messages_received_total", `message_type="samples",user_id="${userId}"`);

describe("ObjectMetrics", () => {
  it("ships what was recorded in one batch on flush(), exactly once", async () => {
    await withStorage("once", async (storage) => {
      const metrics = new ObjectMetrics(env, "om-once", () => idle("om-once"), storage);
      // First flush sends the initial (idle) snapshot, so nothing is pending afterwards.
      await metrics.flush();
      expect(metrics.hasPending()).toBe(false);
      metrics.instruments.messagesReceived.add(3, { message_type: "samples", user_id: "om-once" });
      metrics.instruments.wsMessageLatency.record(0.002, { message_type: "samples" });
      expect(metrics.hasPending()).toBe(true);
      await metrics.flush();
      expect(metrics.hasPending()).toBe(false);
      await metrics.flush();
      const text = await scrape();
      expect(received(text, "om-once")).toBe(3);
      expect(
        seriesValue(text, "ws_message_latency_seconds_bucket", 'message_type="samples",le="0.005"'),
      ).toBe(1);
    });
  });

  it("a batch whose answer was lost is retried with the same id and counted once", async () => {
    await withStorage("lost-answer", async (storage) => {
      const faulty = faultyEnv("lose-answer");
      const metrics = new ObjectMetrics(faulty, "om-lost", () => idle("om-lost"), storage);
      metrics.instruments.messagesReceived.add(7, { message_type: "samples", user_id: "om-lost" });
      await metrics.flush(); // applied, but the answer is lost: stays in the outbox
      expect(metrics.hasPending()).toBe(true);
      await metrics.flush(); // retried: the shard recognises it
      expect(metrics.hasPending()).toBe(false);
      expect(faulty.calls).toHaveLength(2);
      expect(faulty.calls[1]).toEqual(faulty.calls[0]);
      expect(received(await scrape(), "om-lost")).toBe(7);
    });
  });

  it("keeps undelivered batches in SQLite: a new instance (after eviction) delivers them", async () => {
    await withStorage("outbox", async (storage) => {
      const down = faultyEnv("down");
      const before = new ObjectMetrics(down, "om-outbox", () => idle("om-outbox"), storage);
      before.instruments.messagesReceived.add(2, { message_type: "samples", user_id: "om-outbox" });
      await before.flush();
      before.instruments.messagesReceived.add(1, { message_type: "samples", user_id: "om-outbox" });
      await before.flush();
      expect(down.calls.length).toBeGreaterThan(0);
      expect(received(await scrape(), "om-outbox")).toBeUndefined();

      const after = new ObjectMetrics(env, "om-outbox", () => idle("om-outbox"), storage);
      expect(after.hasPending()).toBe(true);
      await after.flush();
      expect(after.hasPending()).toBe(false);
      expect(received(await scrape(), "om-outbox")).toBe(3);
    });
  });

  it("reports its gauges, refreshes them while live, and removes them when idle", async () => {
    await withStorage("gauges", async (storage) => {
      const state = { ...idle("om-gauges"), relayConnections: 2, bufferSize: 500, activeSessions: 1 };
      const metrics = new ObjectMetrics(env, "om-gauges", () => state, storage);
      await metrics.flush();
      let text = await scrape();
      expect(seriesValue(text, "buffer_size", 'user_id="om-gauges"')).toBe(500);
      expect(seriesValue(text, "buffer_capacity", 'user_id="om-gauges"')).toBe(10_000);
      expect(seriesValue(text, "edge_relay_connections")).toBeGreaterThanOrEqual(2);
      // Live and unchanged: no flush needed now, but a refresh is due within GAUGE_REFRESH_MS.
      const now = Date.now();
      expect(metrics.hasPending(now)).toBe(false);
      const due = metrics.nextFlushDueAt(now);
      expect(due).not.toBeNull();
      expect((due as number) - now).toBeLessThanOrEqual(GAUGE_REFRESH_MS);
      expect(metrics.hasPending((due as number) + 1)).toBe(true);

      Object.assign(state, idle("om-gauges"));
      expect(metrics.hasPending()).toBe(true);
      await metrics.flush();
      text = await scrape();
      expect(seriesValue(text, "buffer_size", 'user_id="om-gauges"')).toBeUndefined();
      expect(metrics.nextFlushDueAt()).toBeNull();
    });
  });
});
