/**
 * The metric catalogue (README, "Metrics"), word for word, kept apart from the code's own catalogue so that the tests check the code against the
 * contract. Shared by the workerd tests and the Node end-to-end tests (no runtime-specific imports here).
 */
export const SPEC_COUNTERS_AND_GAUGES = [
  "edge_relay_connections",
  "consumer_connections",
  "messages_received_total",
  "messages_processed_total",
  "messages_failed_total",
  "buffer_size",
  "buffer_capacity",
  "active_sessions",
  "sessions_created_total",
  "sessions_ended_total",
  "db_writes_total",
  "pending_writes",
  "http_requests_total",
  "http_requests_in_progress",
  "ws_connections_total",
  "ws_messages_received_total",
  "ws_messages_sent_total",
  "ws_errors_total",
  "ws_reconnections_total",
];

/** Histogram families: Prometheus shows each as `_bucket`, `_sum` and `_count`. */
export const SPEC_HISTOGRAMS = [
  "db_write_duration_seconds",
  "db_batch_size",
  "http_request_duration_seconds",
  "http_request_size_bytes",
  "http_response_size_bytes",
  "ws_message_latency_seconds",
];

/** Every catalogue metric by its family name. */
export const SPEC_METRIC_NAMES = [...SPEC_COUNTERS_AND_GAUGES, ...SPEC_HISTOGRAMS];

/** Sample lines of Prometheus text as `name{labels}` → value (labels as rendered, in their order). */
export function parsePrometheusSamples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}
