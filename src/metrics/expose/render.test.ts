import { describe, expect, it } from "vitest";
import { samples, userGauges } from "../../../test/metrics/support";
import { LATENCY_BUCKETS_S } from "../catalogue";
import { mergeShardStates } from "./merge";
import { renderPrometheusText } from "./render";

const latency = (counts: number[], sum: number) => ({
  name: "ws_message_latency_seconds",
  labels: { message_type: "ack" },
  boundaries: [...LATENCY_BUCKETS_S],
  counts,
  sum,
  count: counts.reduce((a, b) => a + b, 0),
});

const merged = mergeShardStates(
  [
    {
      counters: [{ name: "messages_processed", labels: { message_type: "samples" }, value: 3 }],
      histograms: [latency([1, 0, 0, 0, 0, 0, 0, 0, 0], 0.0005)],
      gauges: [userGauges("a", 5, 10)],
      countingSince: 1_000,
    },
    {
      counters: [{ name: "messages_processed", labels: { message_type: "samples" }, value: 4 }],
      histograms: [latency([0, 2, 0, 0, 0, 0, 0, 0, 1], 9)],
      gauges: [userGauges("b", 1, 10)],
      countingSince: 2_000,
    },
  ],
  1,
);

describe("merge and render", () => {
  it("starts the merged cumulative series when the last shard began counting", () => {
    expect(merged.countingSince).toBe(2_000);
  });

  it("adds counters and histogram buckets across shards and names counters with _total once", () => {
    const text = renderPrometheusText(merged);
    const s = samples(text);
    expect(s.get('messages_processed_total{message_type="samples"}')).toBe(7);
    expect(s.get('ws_message_latency_seconds_bucket{message_type="ack",le="0.001"}')).toBe(1);
    expect(s.get('ws_message_latency_seconds_bucket{message_type="ack",le="0.005"}')).toBe(3);
    expect(s.get('ws_message_latency_seconds_bucket{message_type="ack",le="+Inf"}')).toBe(4);
    expect(s.get('ws_message_latency_seconds_count{message_type="ack"}')).toBe(4);
    // limit 1: the fuller buffer (a: 5/10) keeps its label, b goes to _other.
    expect(s.get('buffer_size{user_id="a"}')).toBe(5);
    expect(s.get('buffer_size{user_id="_other"}')).toBe(1);
    expect(s.get("edge_relay_connections")).toBe(2);
    expect(text).toContain("# TYPE messages_processed_total counter");
    expect(text).not.toMatch(/_total_total|# UNIT|otel_scope|target_info/);
  });
});
