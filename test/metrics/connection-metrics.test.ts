import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { GAUGE_REFRESH_MS } from "../../src/metrics/wire";
import { runFlush, userStub } from "../support/user-object";
import { connect, samplesFrame } from "../support/ws-client";
import { scrape, seriesValue } from "./support";

const USER = "close-metrics-user";
const flushIntervalMs = Number(env.FLUSH_INTERVAL_MS);

describe("connection metrics after a relay leaves", () => {
  it("ship when the last socket closes, before any alarm (an idle object may be evicted first)", async () => {
    const user = "last-close-metrics-user";
    const before = await scrape();
    const processed = (text: string) =>
      seriesValue(text, "messages_processed_total", 'message_type="samples"') ?? 0;
    const closed = (text: string) =>
      seriesValue(text, "ws_connections_total", 'role="relay",status="closed"') ?? 0;
    const relay = await connect("relay", user);
    for (let seq = 1; seq <= 2; seq++) {
      expect(await relay.request(samplesFrame("r1", "s1", seq, 1))).toEqual({ type: "ack", seq });
    }
    // The alarm that would ship them is a flush interval away.
    const alarmAt = await runInDurableObject(userStub(user), (_o, state) => state.storage.getAlarm());
    expect(alarmAt as number).toBeGreaterThan(Date.now() + flushIntervalMs / 2);
    relay.close();
    await vi.waitFor(
      async () => {
        const after = await scrape();
        expect(processed(after) - processed(before)).toBe(2);
        expect(closed(after) - closed(before)).toBe(1);
      },
      { timeout: 5_000, interval: 20 },
    );
    expect(Date.now()).toBeLessThan(alarmAt as number);
  });

  it("ship within a flush interval, even when only the session watchdog alarm is set", async () => {
    const relay = await connect("relay", USER);
    expect(await relay.request(samplesFrame("r1", "s1", 1, 1))).toEqual({ type: "ack", seq: 1 });
    await runFlush(USER); // buffer written to D1; what stays scheduled is the SESSION_IDLE_MS watchdog
    const closedBefore =
      seriesValue(await scrape(), "ws_connections_total", 'role="relay",status="closed"') ?? 0;

    relay.close();
    await vi.waitFor(async () =>
      expect(await runInDurableObject(userStub(USER), (_o, state) => state.getWebSockets().length)).toBe(0),
    );
    const alarmAt = await runInDurableObject(userStub(USER), (_o, state) => state.storage.getAlarm());
    expect(alarmAt).not.toBeNull();
    expect(alarmAt as number).toBeLessThanOrEqual(Date.now() + flushIntervalMs);

    await runFlush(USER);
    const after = await scrape();
    expect(seriesValue(after, "ws_connections_total", 'role="relay",status="closed"')).toBe(closedBefore + 1);
    expect(seriesValue(after, "edge_relay_connections") ?? 0).toBe(0);

    // Only an idle session is left: no gauge refresh every GAUGE_REFRESH_MS, the next wake-up is the session's
    // expiry (SESSION_IDLE_MS after the relay left), whatever the metrics had scheduled before.
    const next = await runInDurableObject(userStub(USER), (_o, state) => state.storage.getAlarm());
    expect(next as number).toBeGreaterThan(Date.now() + GAUGE_REFRESH_MS);
  });
});
