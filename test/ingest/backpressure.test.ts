import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { breakD1For, repairD1For } from "../support/d1-fault";
import { flushAll, readAllSamples, runFlush, userStub } from "../support/user-object";
import { connect, samplesFrame } from "../support/ws-client";

// vitest.config.ts: BUFFER_CAPACITY 20000; wrangler.toml: FLUSH_BATCH_SIZE 2000, MAX_SAMPLES_PER_FRAME 10000.
// Relay r0 fills half of the buffer first, so that r1's frames meet it full.
describe("bounded buffer", () => {
  it("answers buffer_full with retry_after_ms when a frame does not fit, and accepts it after a flush", async () => {
    const user = "full-buffer";
    await breakD1For(user); // the flush is held until the buffer has filled
    const relay = await connect("relay", user);
    expect(await relay.request(samplesFrame("r0", "s1", 1, 10_000))).toEqual({ type: "ack", seq: 1 });
    expect(await relay.request(samplesFrame("r1", "s1", 1, 9_999))).toEqual({ type: "ack", seq: 1 });
    expect(await relay.request(samplesFrame("r1", "s1", 2, 1))).toEqual({ type: "ack", seq: 2 });

    const refused = await relay.request(samplesFrame("r1", "s1", 3, 1));
    expect(refused).toMatchObject({ type: "error", code: "buffer_full", seq: 3 });
    expect(refused.retry_after_ms).toBeGreaterThan(0);
    expect(refused.message).toContain("20000 of 20000");

    // Two alarm runs (at most 8 FLUSH_BATCH_SIZE batches each) write the whole buffer; the 9,999-sample frame is
    // cut across batches.
    await repairD1For(user);
    await flushAll(user);
    const stored = (await readAllSamples(user)).filter((s) => s.relay_id === "r1" && s.seq === 1);
    expect([stored.length, new Set(stored.map((s) => s.idx)).size, stored.at(-1)?.idx]).toEqual([
      9_999, 9_999, 9_998,
    ]);

    expect(await relay.request(samplesFrame("r1", "s1", 3, 1))).toEqual({ type: "ack", seq: 3 });
  });

  it("derives retry_after_ms from the next flush, counting frames not yet committed", async () => {
    const relay = await connect("relay", "full-burst");
    // Sent in one burst: the third frame is refused while the first two still wait for their commit. They
    // complete a FLUSH_BATCH_SIZE batch, so the flush is immediate: retry soon, not after an interval.
    relay.send(samplesFrame("r1", "s1", 1, 10_000));
    relay.send(samplesFrame("r1", "s1", 2, 9_999));
    relay.send(samplesFrame("r1", "s1", 3, 10));
    const [first, second, third] = await relay.take(3);
    expect(first).toEqual({ type: "ack", seq: 1 });
    expect(second).toEqual({ type: "ack", seq: 2 });
    expect(third).toMatchObject({ type: "error", code: "buffer_full", seq: 3 });
    expect(third?.retry_after_ms).toBeLessThanOrEqual(200);
  });

  it("stores a refused frame when it is resent, even after later frames of the relay were acked", async () => {
    const user = "full-window";
    await breakD1For(user);
    const relay = await connect("relay", user);
    expect(await relay.request(samplesFrame("r0", "s1", 1, 10_000))).toEqual({ type: "ack", seq: 1 });
    expect(await relay.request(samplesFrame("r1", "s1", 1, 9_995))).toEqual({ type: "ack", seq: 1 });
    // seq 2 does not fit; seq 3 is acked before seq 2 is resent. The resent seq 2 is then "not above the
    // highest acked seq" (docs/protocol.md), yet it was never stored: it must be stored, not acked as a duplicate.
    expect(await relay.request(samplesFrame("r1", "s1", 2, 10))).toMatchObject({
      type: "error",
      code: "buffer_full",
      seq: 2,
    });
    // The refused seq is remembered durably: the object may be evicted before the relay resends it.
    await evictDurableObject(userStub(user));
    await repairD1For(user);
    expect(await runFlush(user)).toBe(true);
    const again = await connect("relay", user);
    expect(await again.request(samplesFrame("r1", "s1", 3, 1))).toEqual({ type: "ack", seq: 3 });
    expect(await again.request(samplesFrame("r1", "s1", 2, 10))).toEqual({ type: "ack", seq: 2 });
    // Acked frames stay duplicates, the filled hole too.
    expect(await again.request(samplesFrame("r1", "s1", 2, 10))).toEqual({ type: "ack", seq: 2 });
    expect(await again.request(samplesFrame("r1", "s1", 3, 1))).toEqual({ type: "ack", seq: 3 });
    await flushAll(user);
    const perSeq = new Map<number, number>();
    for (const s of await readAllSamples(user)) {
      if (s.relay_id === "r1") perSeq.set(Number(s.seq), (perSeq.get(Number(s.seq)) ?? 0) + 1);
    }
    expect([...perSeq].map(([seq, n]) => ({ seq, n }))).toEqual([
      { seq: 1, n: 9_995 },
      { seq: 2, n: 10 },
      { seq: 3, n: 1 },
    ]);
  });

  it("flushes a full batch from the commit that filled it, not from an alarm", async () => {
    // Under a flood of frames the alarm event waits behind them; the commit starts the flush itself, so it sets
    // no alarm for it (the earliest one left is the metrics' shipment, FLUSH_INTERVAL_MS after the connect).
    const user = "flush-on-commit";
    const start = Date.now();
    const relay = await connect("relay", user);
    expect(await relay.request(samplesFrame("r1", "s1", 1, 2_000))).toEqual({ type: "ack", seq: 1 });
    const alarm = await runInDurableObject(userStub(user), (_o, state) => state.storage.getAlarm());
    expect(alarm === null || alarm >= start + 1_000).toBe(true);
    await vi.waitFor(async () => expect((await readAllSamples(user)).length).toBe(2_000), {
      timeout: 5_000,
      interval: 20,
    });
  });
});
