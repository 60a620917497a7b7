import type { Counter, Histogram, Meter, UpDownCounter } from "@opentelemetry/api";

/**
 * The instruments of SPEC §5, created on an OpenTelemetry Meter. Counter names carry no `_total`: the
 * Prometheus serializer appends it to monotonic sums. No units are set, so no suffix is added either.
 */

/** ws_message_latency_seconds buckets, exactly as SPEC §5 lists them. */
export const LATENCY_BUCKETS_S = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5];
/** HTTP and D1 durations (seconds). */
export const DURATION_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** db_batch_size (rows per flush batch). */
export const BATCH_SIZE_BUCKETS = [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000];
/** http_request_size_bytes / http_response_size_bytes. */
export const BYTE_SIZE_BUCKETS = [64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304];

export type MessageType = "session_start" | "samples" | "session_end" | "ping" | "unknown";
export type TableName = "samples" | "sessions";

/** What a user Durable Object records as events happen (counters and histograms). */
export interface IngestInstruments {
  /** messages_received_total{message_type,user_id} */
  messagesReceived: Counter<{ message_type: string; user_id: string }>;
  /** messages_processed_total{message_type} */
  messagesProcessed: Counter<{ message_type: string }>;
  /** messages_failed_total{message_type,error_type}; error_type is the SPEC error code. */
  messagesFailed: Counter<{ message_type: string; error_type: string }>;
  /** sessions_created_total */
  sessionsCreated: Counter;
  /** sessions_ended_total */
  sessionsEnded: Counter;
  /** db_writes_total{table}: rows written */
  dbWrites: Counter<{ table: string }>;
  /** db_write_duration_seconds{table} */
  dbWriteDuration: Histogram<{ table: string }>;
  /** db_batch_size{table} */
  dbBatchSize: Histogram<{ table: string }>;
  /** ws_connections_total{role,status}, status opened|closed|error */
  wsConnections: Counter<{ role: string; status: string }>;
  /** ws_messages_received_total{message_type} */
  wsMessagesReceived: Counter<{ message_type: string }>;
  /** ws_messages_sent_total{message_type} */
  wsMessagesSent: Counter<{ message_type: string }>;
  /** ws_errors_total{error_type} */
  wsErrors: Counter<{ error_type: string }>;
  /** ws_reconnections_total{reason} */
  wsReconnections: Counter<{ reason: string }>;
  /** ws_message_latency_seconds{message_type}: receive to durable ack (relay), receive to fan-out (consumer) */
  wsMessageLatency: Histogram<{ message_type: string }>;
}

/** What the Worker's HTTP middleware records. */
export interface HttpInstruments {
  httpRequests: Counter<{ method: string; route: string; status: string }>;
  httpRequestDuration: Histogram<{ method: string; route: string }>;
  httpRequestsInProgress: UpDownCounter<{ method: string; route: string }>;
  httpRequestSize: Histogram;
  httpResponseSize: Histogram;
}

/** The live state a user object reports as gauges (SPEC §5: gauges reflect the live state of all objects). */
export interface UserGaugeSnapshot {
  userId: string;
  relayConnections: number;
  consumerConnections: number;
  bufferSize: number;
  bufferCapacity: number;
  activeSessions: number;
  pendingWrites: { samples: number; sessions: number };
}

export function createIngestInstruments(meter: Meter): IngestInstruments {
  const buckets = (explicitBucketBoundaries: number[]) => ({ advice: { explicitBucketBoundaries } });
  return {
    messagesReceived: meter.createCounter("messages_received", {
      description: "Frames received, by type and user",
    }),
    messagesProcessed: meter.createCounter("messages_processed", {
      description: "Frames handled successfully",
    }),
    messagesFailed: meter.createCounter("messages_failed", {
      description: "Frames answered with an error frame",
    }),
    sessionsCreated: meter.createCounter("sessions_created", { description: "Sessions started" }),
    sessionsEnded: meter.createCounter("sessions_ended", {
      description: "Sessions ended (explicitly or idle)",
    }),
    dbWrites: meter.createCounter("db_writes", { description: "Rows written to D1" }),
    dbWriteDuration: meter.createHistogram("db_write_duration_seconds", {
      description: "D1 batch write duration",
      ...buckets(DURATION_BUCKETS_S),
    }),
    dbBatchSize: meter.createHistogram("db_batch_size", {
      description: "Rows per D1 flush batch",
      ...buckets(BATCH_SIZE_BUCKETS),
    }),
    wsConnections: meter.createCounter("ws_connections", { description: "WebSocket connection events" }),
    wsMessagesReceived: meter.createCounter("ws_messages_received", {
      description: "WebSocket messages received",
    }),
    wsMessagesSent: meter.createCounter("ws_messages_sent", { description: "WebSocket messages sent" }),
    wsErrors: meter.createCounter("ws_errors", { description: "WebSocket errors" }),
    wsReconnections: meter.createCounter("ws_reconnections", { description: "Relay reconnections" }),
    wsMessageLatency: meter.createHistogram("ws_message_latency_seconds", {
      description: "Receive to durable ack (relay) or to fan-out (consumer)",
      ...buckets(LATENCY_BUCKETS_S),
    }),
  };
}

export function createHttpInstruments(meter: Meter): HttpInstruments {
  const buckets = (explicitBucketBoundaries: number[]) => ({ advice: { explicitBucketBoundaries } });
  return {
    httpRequests: meter.createCounter("http_requests", { description: "HTTP requests" }),
    httpRequestDuration: meter.createHistogram("http_request_duration_seconds", {
      description: "HTTP request duration",
      ...buckets(DURATION_BUCKETS_S),
    }),
    httpRequestsInProgress: meter.createUpDownCounter("http_requests_in_progress", {
      description: "HTTP requests being served",
    }),
    httpRequestSize: meter.createHistogram("http_request_size_bytes", {
      description: "HTTP request body size",
      ...buckets(BYTE_SIZE_BUCKETS),
    }),
    httpResponseSize: meter.createHistogram("http_response_size_bytes", {
      description: "HTTP response body size",
      ...buckets(BYTE_SIZE_BUCKETS),
    }),
  };
}
