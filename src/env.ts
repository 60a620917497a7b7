import type { MetricsShard } from "../durable-objects/metrics-shard";
import type { UserStream } from "../durable-objects/user-stream";

/** Bindings, vars and secrets the Worker and its Durable Objects receive (see wrangler.toml, README, "Configuration"). */
export interface Env {
  DB: D1Database;
  COLD: R2Bucket;
  USER_STREAM: DurableObjectNamespace<UserStream>;
  METRICS_SHARD: DurableObjectNamespace<MetricsShard>;
  /** Static files of the live view (`public/`, wrangler.toml `[assets]`). */
  ASSETS: Fetcher;

  // Secrets: `wrangler secret put NAME` in production, `.dev.vars` locally.
  AUTH_SECRET?: string;
  METRICS_TOKEN?: string;
  PROMETHEUS_REMOTE_WRITE_URL?: string;
  PROMETHEUS_REMOTE_WRITE_USERNAME?: string;
  PROMETHEUS_REMOTE_WRITE_PASSWORD?: string;
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  OTEL_EXPORTER_OTLP_HEADERS?: string;

  // Vars: strings as wrangler passes them; parsed and validated by src/config.ts.
  BUFFER_CAPACITY?: string;
  FLUSH_INTERVAL_MS?: string;
  FLUSH_BATCH_SIZE?: string;
  SESSION_IDLE_MS?: string;
  MAX_FRAME_BYTES?: string;
  MAX_SAMPLES_PER_FRAME?: string;
  METRICS_USER_LABEL_LIMIT?: string;
  METRICS_SHARDS?: string;
  REMOTE_WRITE_INTERVAL_S?: string;
  OTEL_RESOURCE_ATTRIBUTES?: string;
  OTEL_SERVICE_NAME?: string;
  OTEL_EXPORTER_OTLP_METRICS_ENDPOINT?: string;
  OTEL_EXPORTER_OTLP_METRICS_HEADERS?: string;
  OTEL_EXPORTER_OTLP_TIMEOUT?: string;
  OTEL_EXPORTER_OTLP_METRICS_TIMEOUT?: string;
  OTEL_EXPORTER_OTLP_COMPRESSION?: string;
  OTEL_EXPORTER_OTLP_METRICS_COMPRESSION?: string;
  MAX_TOKEN_LIFETIME_S?: string;
  COLD_AFTER_S?: string;
  RETENTION_DAYS?: string;
}
