import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { objectRows, runFlush, userStub } from "../support/user-object";
import { connect, samplesFrame } from "../support/ws-client";

const alarmOf = (user: string) => runInDurableObject(userStub(user), (_i, state) => state.storage.getAlarm());

describe("an idle user object", () => {
  it("sets no alarm once it has no socket, nothing buffered and no open session: idle costs nothing", async () => {
    const user = "idle-object";
    const relay = await connect("relay", user);
    expect(await relay.request(samplesFrame("r1", "s1", 1, 3))).toEqual({ type: "ack", seq: 1 });
    relay.send({ type: "session_end", session_id: "s1" });
    await vi.waitFor(async () => {
      expect(await objectRows(user, "SELECT ended_at FROM sessions")).not.toEqual([{ ended_at: null }]);
    });
    relay.close();
    // Run the alarms it still has (flush, session sync to D1, metrics shipping) until none is left.
    await vi.waitFor(
      async () => {
        await runFlush(user);
        expect(await alarmOf(user)).toBeNull();
      },
      { timeout: 15_000, interval: 100 },
    );
    expect(await objectRows(user, "SELECT id FROM buffer_commits")).toEqual([]);
    // And it stays so: nothing re-arms it.
    expect(await runFlush(user)).toBe(false);
    expect(await alarmOf(user)).toBeNull();
  });
});
