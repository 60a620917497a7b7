import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { objectRows, readSamples, runFlush, userStub } from "../support/user-object";
import { connect, samplesFrame } from "../support/ws-client";

// A real D1 failure, scoped to one user so that other tests are not affected: a trigger that aborts the
// INSERT of that user's samples, as a D1 outage or a constraint error would.
async function breakD1For(userId: string): Promise<void> {
  await env.DB.exec(
    `CREATE TRIGGER IF NOT EXISTS fail_${userId.replaceAll("-", "_")} BEFORE INSERT ON samples WHEN NEW.user_id = '${userId}' BEGIN SELECT RAISE(ABORT, 'injected D1 failure'); END`,
  );
}

async function repairD1For(userId: string): Promise<void> {
  await env.DB.exec(`DROP TRIGGER IF EXISTS fail_${userId.replaceAll("-", "_")}`);
}

async function alarmAt(userId: string): Promise<number | null> {
  const { runInDurableObject } = await import("cloudflare:test");
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
    expect(await objectRows(user, "SELECT COUNT(*) AS frames, SUM(n) AS samples FROM buffer")).toEqual([
      { frames: 5, samples: 20 },
    ]);
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
    expect(await objectRows(user, "SELECT * FROM buffer")).toEqual([]);
    expect(await objectRows(user, "SELECT value FROM meta WHERE key = 'flush_failures'")).toEqual([
      { value: 0 },
    ]);
  });

  it("a replayed flush inserts nothing twice", async () => {
    const user = "d1-replay";
    const relay = await connect("relay", user);
    for (let seq = 1; seq <= 3; seq++)
      expect((await relay.request(samplesFrame("r1", "s1", seq, 2))).type).toBe("ack");
    // As if an earlier flush reached D1 but the object restarted before it dropped those samples.
    await env.DB.prepare(
      "INSERT INTO samples (user_id, relay_id, session_id, seq, idx, t, ch, v) VALUES (?, 'r1', 's1', 1, 0, 1, 'hr', 1), (?, 'r1', 's1', 1, 1, 2, 'hr', 2)",
    )
      .bind(user, user)
      .run();
    expect(await runFlush(user)).toBe(true);
    const count = await env.DB.prepare("SELECT COUNT(*) AS n FROM samples WHERE user_id = ?")
      .bind(user)
      .first("n");
    expect(count).toBe(6);
  });
});
