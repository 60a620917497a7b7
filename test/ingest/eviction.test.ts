import { evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { objectRows, readSamples, runFlush, userStub } from "../support/user-object";
import { connect, type Frame, samplesFrame } from "../support/ws-client";

describe("eviction and restart", () => {
  it("loses nothing acked when the object is evicted mid-stream, and the relay's resend stores no duplicate", async () => {
    const user = "evict-close";
    const frames = Array.from({ length: 20 }, (_, i) => samplesFrame("r1", "s1", i + 1, 3));
    const relay = await connect("relay", user);
    for (const frame of frames) relay.send(frame);
    const acked: number[] = [];
    for (const reply of await relay.take(10)) acked.push(reply.seq);
    expect(acked).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

    // Like a deploy: the instance goes away and every socket is closed.
    await evictDurableObject(userStub(user), { webSockets: "close" });
    const stored = await objectRows<{ seq: number }>(user, "SELECT seq FROM buffered_frames");
    expect(stored.map((r) => r.seq)).toEqual(expect.arrayContaining(acked));

    // What the relay would do: reconnect and resend every frame it has not seen acked (here: all of them,
    // also those acked late, which must not be stored twice).
    const again = await connect("relay", user);
    for (const frame of frames) again.send(frame);
    const replies = await again.take(frames.length);
    expect(replies).toEqual(frames.map((f) => ({ type: "ack", seq: f.seq })));

    await runFlush(user);
    const read = await readSamples(user);
    expect(read.body.count).toBe(60);
    const keys = read.body.samples.map((s) => `${s.seq}/${s.idx}`);
    expect(new Set(keys).size).toBe(60);
  });

  it("keeps serving a hibernated socket after eviction: dedup marks and socket state are rebuilt", async () => {
    const user = "evict-hibernate";
    const relay = await connect("relay", user);
    const consumer = await connect("consumer", user);
    expect(await relay.request(samplesFrame("r1", "s1", 1, 2))).toEqual({ type: "ack", seq: 1 });
    expect((await consumer.next()).seq).toBe(1);

    await evictDurableObject(userStub(user));

    expect(await relay.request(samplesFrame("r1", "s1", 1, 2))).toEqual({ type: "ack", seq: 1 });
    const next: Frame = samplesFrame("r1", "s1", 2, 2);
    expect(await relay.request(next)).toEqual({ type: "ack", seq: 2 });
    expect(await consumer.next()).toEqual(next);
    expect(await objectRows(user, "SELECT seq FROM buffered_frames ORDER BY row_id, position")).toEqual([
      { seq: 1 },
      { seq: 2 },
    ]);
  });
});
