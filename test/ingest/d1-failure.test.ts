import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { writeFlushBatch } from "../../src/storage/d1/writer";
import { ObjectMeta } from "../../src/storage/stream-state/object-meta";
import { SampleBuffer } from "../../src/storage/stream-state/sample-buffer";
import { breakD1For, repairD1For } from "../support/d1-fault";
import { objectRows, readSamples, runFlush, userStub } from "../support/user-object";
import { connect, samplesFrame } from "../support/ws-client";

async function alarmAt(userId: string): Promise<number | null> {
  return runInDurableObject(userStub(userId), (_i, state) => state.storage.getAlarm());
}

describe("D1 failure during flush", () => {
  afterEach(async () => {
    await repairD1For("d1-fail");
  });

  it("keeps every sample buffered, backs off, re-arms the alarm, and retries until D1 has them", async () => {
    const user = "d1-fail";
    const relay = await connect("relay", user);
    for (let seq = 1; seq <= 5; seq++) {
      expect(await relay.request(samplesFrame("r1", "s1", seq, 4))).toEqual({ type: "ack", seq });
    }
    await breakD1For(user);

    const before = Date.now();
    expect(await runFlush(user)).toBe(true);
    expect(
      await objectRows(user, "SELECT COUNT(*) AS frames, SUM(n) AS samples FROM buffered_frames"),
    ).toEqual([{ frames: 5, samples: 20 }]);
    expect(await objectRows(user, "SELECT value FROM meta WHERE key = 'flush_failures'")).toEqual([
      { value: 1 },
    ]);
    // Re-armed with backoff: FLUSH_INTERVAL_MS (1000) doubled for the first failure.
    const retryAt = await alarmAt(user);
    expect(retryAt).not.toBeNull();
    expect(retryAt as number).toBeGreaterThanOrEqual(before + 2_000);

    // A second failure backs off further and still keeps everything.
    expect(await runFlush(user)).toBe(true);
    expect((await alarmAt(user)) as number).toBeGreaterThanOrEqual(before + 4_000);
    expect((await readSamples(user)).body.count).toBe(0);

    // Samples keep arriving while D1 is down.
    expect(await relay.request(samplesFrame("r1", "s1", 6, 4))).toEqual({ type: "ack", seq: 6 });

    await repairD1For(user);
    expect(await runFlush(user)).toBe(true);
    const read = await readSamples(user);
    expect(read.body.count).toBe(24);
    expect(await objectRows(user, "SELECT * FROM buffer_commits")).toEqual([]);
    expect(await objectRows(user, "SELECT value FROM meta WHERE key = 'flush_failures'")).toEqual([
      { value: 0 },
    ]);
  });

  it("a flush whose D1 answer was lost is written again exactly: nothing twice, nothing lost", async () => {
    const user = "d1-replay";
    const relay = await connect("relay", user);
    for (let seq = 1; seq <= 3; seq++)
      expect((await relay.request(samplesFrame("r1", "s1", seq, 2))).type).toBe("ack");
    // As if a flush wrote its selection to D1 and the object restarted before it dropped those samples.
    const pieces = await runInDurableObject(userStub(user), (_i, state) => {
      const meta = new ObjectMeta(state.storage.sql);
      const selection = new SampleBuffer(state.storage.sql).selectForFlush(2_000);
      meta.pendingFlush = selection.end;
      return selection.slices;
    });
    await writeFlushBatch(env.DB, user, pieces, []);
    // More frames arrive before the retry: the retry writes the same selection first, then the rest.
    for (let seq = 4; seq <= 5; seq++)
      expect((await relay.request(samplesFrame("r1", "s1", seq, 2))).type).toBe("ack");
    await evictDurableObject(userStub(user));
    expect(await runFlush(user)).toBe(true);
    const read = await readSamples(user);
    expect(read.body.samples.map((s) => `${s.seq}/${s.idx}`)).toEqual(
      [1, 2, 3, 4, 5].flatMap((seq) => [`${seq}/0`, `${seq}/1`]),
    );
    expect(await objectRows(user, "SELECT value FROM meta WHERE key = 'pending_flush'")).toEqual([
      { value: null },
    ]);
  });
});
