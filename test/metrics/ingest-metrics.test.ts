import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { objectRows, runFlush, userStub } from "../support/user-object";
import { connect, postFrame, samplesFrame } from "../support/ws-client";
import { scrape, series, seriesValue } from "./support";

const USER = "metrics-run-user";

/** Counter value of `name` for the labels, 0 when absent (labels as rendered, sorted by key). */
const at = (text: string, name: string, labels = "") => seriesValue(text, name, labels) ?? 0;

describe("metrics of a scripted relay/consumer run, counted from the client side", () => {
  it("shows exactly the frames, connections, sessions and rows the clients caused, and keeps them", async () => {
    const before = await scrape();
    const consumer = await connect("consumer", USER);
    const relay = await connect("relay", USER);

    relay.send({ type: "session_start", session_id: "s1", relay_id: "r1" });
    for (let seq = 1; seq <= 3; seq++) {
      expect(await relay.request(samplesFrame("r1", "s1", seq, 2))).toEqual({ type: "ack", seq });
    }
    expect(await relay.request(samplesFrame("r1", "s1", 2, 2))).toEqual({ type: "ack", seq: 2 }); // duplicate
    expect(await relay.request("not json")).toMatchObject({ type: "error", code: "invalid" });
    relay.send({ type: "session_end", session_id: "s1" });
    expect(await consumer.take(3)).toHaveLength(3);
    await vi.waitFor(async () =>
      expect(await objectRows(USER, "SELECT session_id FROM sessions WHERE ended_at IS NULL")).toEqual([]),
    );
    relay.close();
    consumer.close();
    // The alarm writes the buffer to D1 and flushes the metrics; a second run ships what the first recorded late.
    await vi.waitFor(async () =>
      expect(await runInDurableObject(userStub(USER), (_o, state) => state.getWebSockets().length)).toBe(0),
    );
    await runFlush(USER);
    await runFlush(USER);

    const after = await scrape();
    const delta = (name: string, labels = "") => at(after, name, labels) - at(before, name, labels);
    const user = `user_id="${USER}"`;
    // 1 session_start + 4 samples (one a duplicate) + 1 invalid + 1 session_end
    expect(delta("messages_received_total", `message_type="samples",${user}`)).toBe(4);
    expect(delta("messages_received_total", `message_type="session_start",${user}`)).toBe(1);
    expect(delta("messages_received_total", `message_type="session_end",${user}`)).toBe(1);
    expect(delta("messages_received_total", `message_type="unknown",${user}`)).toBe(1);
    expect(delta("messages_processed_total", 'message_type="samples"')).toBe(4);
    expect(delta("messages_failed_total", 'error_type="invalid",message_type="unknown"')).toBe(1);
    expect(delta("ws_messages_received_total", 'message_type="samples"')).toBe(4);
    expect(delta("ws_messages_sent_total", 'message_type="ack"')).toBe(4);
    expect(delta("ws_messages_sent_total", 'message_type="error"')).toBe(1);
    expect(delta("ws_messages_sent_total", 'message_type="samples"')).toBe(3); // fan-out to the consumer
    expect(delta("sessions_created_total")).toBe(1);
    expect(delta("sessions_ended_total")).toBe(1);
    for (const role of ["relay", "consumer"]) {
      expect(delta("ws_connections_total", `role="${role}",status="opened"`)).toBe(1);
      expect(delta("ws_connections_total", `role="${role}",status="closed"`)).toBe(1);
    }
    // 3 distinct frames x 2 samples of one relay, session and channel: one chunk row.
    expect(delta("db_writes_total", 'table="sample_chunks"')).toBe(1);
    expect(delta("db_batch_size_sum", 'table="sample_chunks"')).toBe(1);
    expect(delta("db_samples_written_total", 'table="sample_chunks"')).toBe(6);
    expect(delta("ws_message_latency_seconds_count", 'message_type="ack"')).toBe(4);
    expect(delta("ws_message_latency_seconds_count", 'message_type="samples"')).toBe(3);
    // Nothing live any more: the user's gauges are gone, the totals are zero.
    expect(series(after, "buffer_size").filter((s) => s.labels.user_id === USER)).toEqual([]);
    expect(at(after, "edge_relay_connections")).toBe(0);
    expect(at(after, "consumer_connections")).toBe(0);

    // Counters survive the eviction of the user object and of every aggregator.
    const custom = await scrape("/metrics-custom");
    await evictDurableObject(userStub(USER));
    expect(await scrape("/metrics-custom")).toBe(custom);
  });

  it("counts POSTed frames the Worker refuses before they reach the user object", async () => {
    const postUser = "metrics-post-user";
    const before = await scrape();
    expect((await postFrame(postUser, "not json")).status).toBe(400);
    expect((await postFrame(postUser, { type: "ping" })).status).toBe(400);
    expect((await postFrame(postUser, samplesFrame("r1", "s1", 1, 2))).status).toBe(200);
    const after = await scrape();
    const delta = (name: string, labels: string) => at(after, name, labels) - at(before, name, labels);
    const user = `user_id="${postUser}"`;
    expect(delta("messages_received_total", `message_type="unknown",${user}`)).toBe(1);
    expect(delta("messages_received_total", `message_type="ping",${user}`)).toBe(1);
    expect(delta("messages_failed_total", 'error_type="invalid",message_type="unknown"')).toBe(1);
    expect(delta("messages_failed_total", 'error_type="invalid",message_type="ping"')).toBe(1);
  });
});
