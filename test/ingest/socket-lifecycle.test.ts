import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { userStub } from "../support/user-object";
import { connect, samplesFrame, tokenFor } from "../support/ws-client";

describe("socket lifecycle", () => {
  it("closes relay and consumer sockets with `unauthorized` and 1008 when their token expires, idle or not", async () => {
    const user = "expiry-idle";
    // exp has whole-second resolution: a 2 s token expires 1-2 s from now.
    const consumer = await connect("consumer", user, { token: await tokenFor(user, "consumer", 2) });
    const relay = await connect("relay", user, { token: await tokenFor(user, "relay", 2) });
    expect(await relay.request(samplesFrame("r1", "s1", 1))).toEqual({ type: "ack", seq: 1 });
    expect(await consumer.next()).toMatchObject({ type: "samples", seq: 1 });
    // Neither socket sends anything more: the object's alarm closes them at exp.
    for (const socket of [consumer, relay]) {
      expect(await socket.next(5_000)).toMatchObject({ type: "error", code: "unauthorized" });
      await vi.waitFor(() => expect(socket.closed?.code).toBe(1008), { timeout: 2_000 });
    }
  });

  it("answers a plain close() (no code: 1005) with a clean close at once", async () => {
    const relay = await connect("relay", "close-plain");
    expect(await relay.request(samplesFrame("r1", "s1", 1))).toEqual({ type: "ack", seq: 1 });
    const started = Date.now();
    relay.ws.close();
    await vi.waitFor(() => expect(relay.closed).not.toBeNull(), { timeout: 3_000 });
    expect(relay.closed?.code).toBe(1000);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it("refuses a seq below the relay's dedup window as invalid, naming the window", async () => {
    const user = "window-forgotten";
    await runInDurableObject(userStub(user), (_instance, state) => {
      state.storage.sql.exec(`CREATE TABLE IF NOT EXISTS relay_floors (relay_id TEXT PRIMARY KEY, floor INTEGER NOT NULL) WITHOUT ROWID;
        INSERT INTO relay_floors VALUES ('r1', 500)`);
    });
    // The object reads its state again after an eviction.
    await evictDurableObject(userStub(user));
    const relay = await connect("relay", user);
    const refused = await relay.request(samplesFrame("r1", "s1", 42));
    expect(refused).toMatchObject({ type: "error", code: "invalid", seq: 42 });
    expect(refused.message).toContain("dedup window");
    expect(refused.message).toContain("new relay_id");
    expect(await relay.request(samplesFrame("r1", "s1", 501))).toEqual({ type: "ack", seq: 501 });
  });
});
