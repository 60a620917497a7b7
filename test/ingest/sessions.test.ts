import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { objectRows, runFlush, userStub } from "../support/user-object";
import { connect, postFrame, samplesFrame } from "../support/ws-client";

// wrangler.toml: SESSION_IDLE_MS 300000.
const IDLE_MS = 300_000;

/** Moves the session's idle start back by SESSION_IDLE_MS (as if that much time had passed), then restarts the object. */
async function ageIdleSession(userId: string, sessionId: string): Promise<void> {
  await runInDurableObject(userStub(userId), (_instance, state) => {
    state.storage.sql.exec(
      "UPDATE sessions SET idle_since = idle_since - ? WHERE session_id = ?",
      IDLE_MS,
      sessionId,
    );
  });
  await evictDurableObject(userStub(userId));
}

async function d1Session(userId: string, sessionId: string) {
  return env.DB.prepare(
    "SELECT started_at, ended_at, sample_count FROM sessions WHERE user_id = ? AND session_id = ?",
  )
    .bind(userId, sessionId)
    .first<{ started_at: number; ended_at: number | null; sample_count: number }>();
}

describe("sessions", () => {
  it("end SESSION_IDLE_MS after their last relay disconnected", async () => {
    const user = "idle-end";
    const relay = await connect("relay", user);
    relay.send({ type: "session_start", session_id: "s1", relay_id: "r1" });
    expect(await relay.request(samplesFrame("r1", "s1", 1, 3))).toEqual({ type: "ack", seq: 1 });
    await runFlush(user);
    expect(await d1Session(user, "s1")).toMatchObject({ ended_at: null, sample_count: 3 });

    relay.close();
    const idle = await vi.waitFor(async () => {
      const [row] = await objectRows<{ idle_since: number | null }>(user, "SELECT idle_since FROM sessions");
      expect(row?.idle_since).not.toBeNull();
      return row?.idle_since as number;
    });
    // Not yet idle for long enough: the alarm leaves it open (and is set for its expiry).
    await runFlush(user);
    expect(await objectRows(user, "SELECT ended_at FROM sessions")).toEqual([{ ended_at: null }]);
    const alarm = await runInDurableObject(userStub(user), (_i, state) => state.storage.getAlarm());
    expect(alarm).toBeLessThanOrEqual(idle + IDLE_MS);

    await ageIdleSession(user, "s1");
    expect(await runFlush(user)).toBe(true);
    // Ended when the relay left, written to D1, and forgotten by the object.
    expect(await d1Session(user, "s1")).toEqual({
      started_at: expect.any(Number),
      ended_at: idle - IDLE_MS,
      sample_count: 3,
    });
    expect(await objectRows(user, "SELECT * FROM sessions")).toEqual([]);
  });

  it("stay open when a relay comes back within SESSION_IDLE_MS", async () => {
    const user = "idle-resume";
    const first = await connect("relay", user);
    expect(await first.request(samplesFrame("r1", "s1", 1))).toEqual({ type: "ack", seq: 1 });
    first.close();
    await vi.waitFor(async () =>
      expect(
        await objectRows(user, "SELECT idle_since FROM sessions WHERE idle_since IS NOT NULL"),
      ).toHaveLength(1),
    );
    const again = await connect("relay", user);
    expect(await again.request(samplesFrame("r1", "s1", 2))).toEqual({ type: "ack", seq: 2 });
    expect(await objectRows(user, "SELECT idle_since, ended_at FROM sessions")).toEqual([
      { idle_since: null, ended_at: null },
    ]);
    await runFlush(user);
    expect(await d1Session(user, "s1")).toMatchObject({ ended_at: null, sample_count: 2 });
  });

  it("started by HTTP samples (no socket) end SESSION_IDLE_MS after the last frame", async () => {
    const user = "idle-http";
    const res = await postFrame(user, samplesFrame("r1", "s-http", 1, 2));
    expect(await res.json()).toEqual({ type: "ack", seq: 1 });
    expect(await objectRows(user, "SELECT idle_since IS NOT NULL AS idle FROM sessions")).toEqual([
      { idle: 1 },
    ]);
    await ageIdleSession(user, "s-http");
    await runFlush(user);
    expect(await d1Session(user, "s-http")).toMatchObject({ ended_at: expect.any(Number), sample_count: 2 });
  });
});
