import type { Counter, Histogram, Meter, UpDownCounter } from "@opentelemetry/api";
import { METRICS } from "../catalogue";
import type { RecordingBuffer } from "./recording-buffer";

// The instruments of docs/protocol.md's metrics, created on an OpenTelemetry Meter with the names and buckets
// of the catalogue.

/** What a user Durable Object records as events happen (counters and histograms). */
export interface IngestInstruments {
  /** messages_received_total{message_type,user_id} */
  messagesReceived: Counter<{ message_type: string; user_id: string }>;
  /** messages_processed_total{message_type} */
  messagesProcessed: Counter<{ message_type: string }>;
  /** messages_failed_total{message_type,error_type}; error_type is the frame's error code. */
  messagesFailed: Counter<{ message_type: string; error_type: string }>;
  /** sessions_created_total */
  sessionsCreated: Counter;
  /** sessions_ended_total */
  sessionsEnded: Counter;
  /** db_writes_total{table}: rows written */
  dbWrites: Counter<{ table: string }>;
  /** db_samples_written_total{table}: samples in the chunk rows written */
  dbSamplesWritten: Counter<{ table: string }>;
  /** object_rows_written_total{op}: rows the user object's SQLite wrote, op commit|flush */
  objectRowsWritten: Counter<{ op: string }>;
  /** db_flush_errors_total{error_type}: failed D1 flushes, d1_full apart from the rest */
  dbFlushErrors: Counter<{ error_type: string }>;
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

/** The live state a user object reports as gauges (README, "Metrics": gauges reflect the live state of all objects). */
export interface UserGaugeSnapshot {
  userId: string;
  relayConnections: number;
  consumerConnections: number;
  bufferSize: number;
  bufferCapacity: number;
  activeSessions: number;
  pendingWrites: { samples: number; sessions: number };
}

function counter(meter: Meter, name: string, buffer?: RecordingBuffer): Counter {
  const created = meter.createCounter(name, { description: METRICS[name]?.help });
  return buffer ? buffer.counter(created) : created;
}

function histogram(meter: Meter, name: string, buffer?: RecordingBuffer): Histogram {
  const def = METRICS[name];
  const created = meter.createHistogram(name, {
    description: def?.help,
    advice: { explicitBucketBoundaries: [...(def?.boundaries ?? [])] },
  });
  return buffer ? buffer.histogram(created) : created;
}

/** The ingest instruments; with a `buffer`, they record through it (an object recording on every frame). */
export function createIngestInstruments(meter: Meter, buffer?: RecordingBuffer): IngestInstruments {
  const makeCounter = (name: string) => counter(meter, name, buffer);
  const makeHistogram = (name: string) => histogram(meter, name, buffer);
  return {
    messagesReceived: makeCounter("messages_received"),
    messagesProcessed: makeCounter("messages_processed"),
    messagesFailed: makeCounter("messages_failed"),
    sessionsCreated: makeCounter("sessions_created"),
    sessionsEnded: makeCounter("sessions_ended"),
    dbWrites: makeCounter("db_writes"),
    dbSamplesWritten: makeCounter("db_samples_written"),
    dbFlushErrors: makeCounter("db_flush_errors"),
    objectRowsWritten: makeCounter("object_rows_written"),
    dbWriteDuration: makeHistogram("db_write_duration_seconds"),
    dbBatchSize: makeHistogram("db_batch_size"),
    wsConnections: makeCounter("ws_connections"),
    wsMessagesReceived: makeCounter("ws_messages_received"),
    wsMessagesSent: makeCounter("ws_messages_sent"),
    wsErrors: makeCounter("ws_errors"),
    wsReconnections: makeCounter("ws_reconnections"),
    wsMessageLatency: makeHistogram("ws_message_latency_seconds"),
  };
}

export function createHttpInstruments(meter: Meter): HttpInstruments {
  return {
    httpRequests: counter(meter, "http_requests"),
    httpRequestDuration: histogram(meter, "http_request_duration_seconds"),
    httpRequestsInProgress: meter.createUpDownCounter("http_requests_in_progress", {
      description: METRICS.http_requests_in_progress?.help,
    }),
    httpRequestSize: histogram(meter, "http_request_size_bytes"),
    httpResponseSize: histogram(meter, "http_response_size_bytes"),
  };
}
