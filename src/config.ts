import { z } from "zod";
import { isD1Binding, isUserDatabaseBinding } from "./d1-bindings";
import type { Env } from "./env";
import { ATTRIBUTE_KEY, HEADER_NAME, parseOtelKeyValues } from "./otel-key-values";

/**
 * Typed configuration from the Worker's vars (README, "Configuration"). A bad value throws a ConfigError naming the
 * variable at the first request that reads it, never a silent fallback.
 */
export interface Config {
  bufferCapacity: number;
  flushIntervalMs: number;
  flushBatchSize: number;
  sessionIdleMs: number;
  maxFrameBytes: number;
  maxSamplesPerFrame: number;
  metricsUserLabelLimit: number;
  metricsShards: number;
  remoteWriteIntervalS: number;
  maxTokenLifetimeS: number;
  /** Chunks whose samples are all older than this move from D1 to R2 (storage tiers). */
  coldAfterS: number;
  /** Samples older than this many days are deleted from every tier; 0 keeps everything. */
  retentionDays: number;
  /** The D1 bindings new users are placed on (null: every user database). Placed users never move. */
  newUserDatabases: string[] | null;
  remoteWrite: RemoteWriteTarget | null;
  otlp: OtlpTarget | null;
}

/** Where the Worker pushes remote-write, and the `job` and `instance` of every pushed series. */
export interface RemoteWriteTarget {
  url: string;
  username: string;
  password: string;
  /** service.name and service.instance.id of the OTLP resource: one identity whichever push is used. */
  job: string;
  instance: string;
}

/** Where and how the Worker pushes OTLP (OTEL_EXPORTER_OTLP_* and OTEL_RESOURCE_ATTRIBUTES). */
export interface OtlpTarget {
  /** OTEL_EXPORTER_OTLP_METRICS_ENDPOINT as it is, else `<OTEL_EXPORTER_OTLP_ENDPOINT>/v1/metrics`. */
  metricsUrl: string;
  headers: Record<string, string>;
  /** Per request, ms (`_TIMEOUT`; the exporter spec's default is 10 s). */
  timeoutMs: number;
  /** `_COMPRESSION`: gzip or none; unset: gzip from 1 KiB on. */
  compression: "gzip" | "none" | "auto";
  /** Resource attributes: service.name and service.instance.id (job and instance) always present. */
  resource: Record<string, string>;
}

/** The resource of the pushes (OTLP, and remote-write's job and instance) unless the OTEL_* variables say otherwise. */
export const DEFAULT_OTLP_RESOURCE = {
  "service.name": "zander-edge",
  "service.instance.id": "metrics-shard-0",
};

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Shortest secrets accepted: 32 characters is 256 bits of HS256 key at one bit a char (RFC 7518 §3.2). */
export const MIN_AUTH_SECRET_LENGTH = 32;
export const MIN_METRICS_TOKEN_LENGTH = 16;

/** A secret, if set, of at least `min` characters (unset or empty: its routes answer 503 and say so). */
const secret = (name: string, min: number, what: string) =>
  z
    .string()
    .optional()
    .refine((v) => v === undefined || v === "" || v.length >= min, {
      error: `${name} (${what}) must be at least ${min} characters; generate one with \`openssl rand -hex 32\``,
    });

/** `_COMPRESSION` of the OTLP exporter spec: gzip or none. */
const compression = (name: string) =>
  z.enum(["gzip", "none"], { error: `${name} must be gzip or none` }).optional();

const positiveInt = (name: string, fallback: number, max = Number.MAX_SAFE_INTEGER, min = 1) =>
  z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined) return fallback;
      // Plain decimal digits only: Number() would also take "0x10", "0b11", "1e3", " 5 " and "" (as 0).
      const value = /^\d{1,16}$/.test(raw) ? Number(raw) : Number.NaN;
      if (!Number.isSafeInteger(value) || value < min || value > max) {
        ctx.addIssue({
          code: "custom",
          message: `${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`,
        });
        return z.NEVER;
      }
      return value;
    });

/** A comma-separated list of user database bindings (`DB`, `DB_<NAME>`); unset or empty: null. */
const bindingList = (name: string) =>
  z
    .string()
    .optional()
    .transform((raw, ctx) => {
      const names = (raw ?? "").split(",").map((n) => n.trim());
      if (names.every((n) => n === "")) return null;
      const bad = names.find((n) => !isUserDatabaseBinding(n));
      if (bad !== undefined) {
        ctx.addIssue({
          code: "custom",
          message: `${name} must list D1 bindings named DB or DB_<NAME>, separated by commas, got ${JSON.stringify(bad)}`,
        });
        return z.NEVER;
      }
      return names;
    });

const varsSchema = z
  .object({
    BUFFER_CAPACITY: positiveInt("BUFFER_CAPACITY", 100_000, 1_000_000),
    FLUSH_INTERVAL_MS: positiveInt("FLUSH_INTERVAL_MS", 1_000, 3_600_000),
    FLUSH_BATCH_SIZE: positiveInt("FLUSH_BATCH_SIZE", 2_000, 100_000),
    SESSION_IDLE_MS: positiveInt("SESSION_IDLE_MS", 300_000, 7 * 24 * 3_600_000),
    // At most 1 MiB: a frame is committed in one row of the object's SQLite, 2 MB at most with its columns.
    MAX_FRAME_BYTES: positiveInt("MAX_FRAME_BYTES", 1_048_576, 1_048_576),
    MAX_SAMPLES_PER_FRAME: positiveInt("MAX_SAMPLES_PER_FRAME", 10_000, 1_000_000),
    METRICS_USER_LABEL_LIMIT: positiveInt("METRICS_USER_LABEL_LIMIT", 100, 100_000),
    METRICS_SHARDS: positiveInt("METRICS_SHARDS", 4, 256),
    REMOTE_WRITE_INTERVAL_S: positiveInt("REMOTE_WRITE_INTERVAL_S", 60, 86_400),
    MAX_TOKEN_LIFETIME_S: positiveInt("MAX_TOKEN_LIFETIME_S", 30 * 86_400, 10 * 365 * 86_400),
    COLD_AFTER_S: positiveInt("COLD_AFTER_S", 7 * 86_400, 100 * 365 * 86_400),
    RETENTION_DAYS: positiveInt("RETENTION_DAYS", 0, 100 * 365, 0),
    NEW_USER_DATABASES: bindingList("NEW_USER_DATABASES"),
    PROMETHEUS_REMOTE_WRITE_URL: z.string().optional(),
    PROMETHEUS_REMOTE_WRITE_USERNAME: z.string().optional(),
    PROMETHEUS_REMOTE_WRITE_PASSWORD: z.string().optional(),
    OTEL_EXPORTER_OTLP_ENDPOINT: z.string().optional(),
    OTEL_EXPORTER_OTLP_HEADERS: z.string().optional(),
    OTEL_RESOURCE_ATTRIBUTES: z.string().optional(),
    OTEL_SERVICE_NAME: z.string().optional(),
    OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: z.string().optional(),
    OTEL_EXPORTER_OTLP_METRICS_HEADERS: z.string().optional(),
    OTEL_EXPORTER_OTLP_TIMEOUT: positiveInt("OTEL_EXPORTER_OTLP_TIMEOUT", 10_000, 600_000),
    OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: z.string().optional(),
    OTEL_EXPORTER_OTLP_COMPRESSION: compression("OTEL_EXPORTER_OTLP_COMPRESSION"),
    OTEL_EXPORTER_OTLP_METRICS_COMPRESSION: compression("OTEL_EXPORTER_OTLP_METRICS_COMPRESSION"),
    AUTH_SECRET: secret("AUTH_SECRET", MIN_AUTH_SECRET_LENGTH, "the HS256 key of every token"),
    METRICS_TOKEN: secret("METRICS_TOKEN", MIN_METRICS_TOKEN_LENGTH, "the bearer token of /metrics"),
  })
  // A buffer of only one full frame admits that frame only when empty: under steady small traffic it would
  // starve (README, "Configuration"). Twice the frame limit leaves room for a full frame beside the others.
  .refine((v) => v.BUFFER_CAPACITY >= 2 * v.MAX_SAMPLES_PER_FRAME, {
    error: (issue) => {
      const v = issue.input as { BUFFER_CAPACITY: number; MAX_SAMPLES_PER_FRAME: number };
      return `BUFFER_CAPACITY (${v.BUFFER_CAPACITY}) must be at least twice MAX_SAMPLES_PER_FRAME (${v.MAX_SAMPLES_PER_FRAME})`;
    },
  });

const cache = new WeakMap<object, Config>();

/** Parses and caches the configuration for this `env` object; throws ConfigError on a bad value. */
export function getConfig(env: Env): Config {
  const cached = cache.get(env);
  if (cached) return cached;
  const parsed = varsSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(`Invalid configuration: ${parsed.error.issues.map((i) => i.message).join("; ")}`);
  }
  const v = parsed.data;
  const unbound = v.NEW_USER_DATABASES?.find(
    (name) => !isD1Binding((env as unknown as Record<string, unknown>)[name]),
  );
  if (unbound !== undefined) {
    throw new ConfigError(
      `Invalid configuration: NEW_USER_DATABASES names ${unbound}, which is not a D1 binding of this deployment`,
    );
  }
  const config: Config = {
    bufferCapacity: v.BUFFER_CAPACITY,
    flushIntervalMs: v.FLUSH_INTERVAL_MS,
    flushBatchSize: v.FLUSH_BATCH_SIZE,
    sessionIdleMs: v.SESSION_IDLE_MS,
    maxFrameBytes: v.MAX_FRAME_BYTES,
    maxSamplesPerFrame: v.MAX_SAMPLES_PER_FRAME,
    metricsUserLabelLimit: v.METRICS_USER_LABEL_LIMIT,
    metricsShards: v.METRICS_SHARDS,
    remoteWriteIntervalS: v.REMOTE_WRITE_INTERVAL_S,
    maxTokenLifetimeS: v.MAX_TOKEN_LIFETIME_S,
    coldAfterS: v.COLD_AFTER_S,
    retentionDays: v.RETENTION_DAYS,
    newUserDatabases: v.NEW_USER_DATABASES,
    remoteWrite: parseRemoteWrite(v),
    otlp: parseOtlp(v),
  };
  cache.set(env, config);
  return config;
}

function parseRemoteWrite(v: z.infer<typeof varsSchema>): Config["remoteWrite"] {
  const url = v.PROMETHEUS_REMOTE_WRITE_URL?.trim() ?? "";
  const username = v.PROMETHEUS_REMOTE_WRITE_USERNAME?.trim() ?? "";
  const password = v.PROMETHEUS_REMOTE_WRITE_PASSWORD ?? "";
  if (!url && !username && !password) return null;
  if (!url) {
    throw new ConfigError(
      "Invalid configuration: PROMETHEUS_REMOTE_WRITE_URL is required when remote-write credentials are set",
    );
  }
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== "https:" && parsed.protocol !== "http:") throw new Error();
  } catch {
    throw new ConfigError(
      `Invalid configuration: PROMETHEUS_REMOTE_WRITE_URL must be an http(s) URL, got ${JSON.stringify(url)}`,
    );
  }
  const resource = parseResource(v);
  return {
    url,
    username,
    password,
    job: resource["service.name"] as string,
    instance: resource["service.instance.id"] as string,
  };
}

/** The pushes' resource: the defaults, then OTEL_RESOURCE_ATTRIBUTES, then OTEL_SERVICE_NAME. */
function parseResource(v: z.infer<typeof varsSchema>): Record<string, string> {
  const raw = v.OTEL_RESOURCE_ATTRIBUTES?.trim() ?? "";
  try {
    const resource: Record<string, string> = {
      ...DEFAULT_OTLP_RESOURCE,
      ...(raw ? parseOtelKeyValues("OTEL_RESOURCE_ATTRIBUTES", raw, ATTRIBUTE_KEY) : {}),
    };
    // OTEL_SERVICE_NAME wins over a service.name in OTEL_RESOURCE_ATTRIBUTES (OpenTelemetry SDK spec).
    if (v.OTEL_SERVICE_NAME?.trim()) resource["service.name"] = v.OTEL_SERVICE_NAME.trim();
    return resource;
  } catch (err) {
    throw new ConfigError(`Invalid configuration: ${(err as Error).message}`);
  }
}

/**
 * OTLP push target. The endpoint is the base URL as the OpenTelemetry spec defines OTEL_EXPORTER_OTLP_ENDPOINT
 * (Grafana Cloud: `https://otlp-gateway-prod-REGION.grafana.net/otlp`); metrics go to `<endpoint>/v1/metrics`.
 * Headers without an endpoint are a mistake, not "off": they fail loudly.
 */
function parseOtlp(v: z.infer<typeof varsSchema>): OtlpTarget | null {
  // The per-signal variables take precedence over the general ones (OpenTelemetry exporter spec); the
  // per-signal endpoint is used as it is, the general one gets /v1/metrics appended.
  const signalEndpoint = v.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT?.trim() ?? "";
  const endpoint = v.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() ?? "";
  const headersName = v.OTEL_EXPORTER_OTLP_METRICS_HEADERS?.trim()
    ? "OTEL_EXPORTER_OTLP_METRICS_HEADERS"
    : "OTEL_EXPORTER_OTLP_HEADERS";
  const rawHeaders = v[headersName]?.trim() ?? "";
  if (!endpoint && !signalEndpoint) {
    if (rawHeaders) {
      throw new ConfigError(
        `Invalid configuration: OTEL_EXPORTER_OTLP_ENDPOINT is required when ${headersName} is set (or OTEL_EXPORTER_OTLP_METRICS_ENDPOINT)`,
      );
    }
    return null;
  }
  const [name, given] = signalEndpoint
    ? ["OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", signalEndpoint]
    : ["OTEL_EXPORTER_OTLP_ENDPOINT", endpoint];
  let url: URL;
  try {
    url = new URL(given);
    if (url.protocol !== "https:" && url.protocol !== "http:") throw new Error();
  } catch {
    throw new ConfigError(
      `Invalid configuration: ${name} must be an http(s) URL, got ${JSON.stringify(given)}`,
    );
  }
  if (!signalEndpoint && (url.search || url.hash)) {
    throw new ConfigError(
      "Invalid configuration: OTEL_EXPORTER_OTLP_ENDPOINT must be a base URL without ?query or #fragment (/v1/metrics is appended)",
    );
  }
  if (!signalEndpoint && /\/v1\/metrics\/?$/.test(url.pathname)) {
    throw new ConfigError(
      `Invalid configuration: OTEL_EXPORTER_OTLP_ENDPOINT is the base URL; /v1/metrics is appended, so leave it out of ${JSON.stringify(given)} (or set OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, used as it is)`,
    );
  }
  const signalTimeout = v.OTEL_EXPORTER_OTLP_METRICS_TIMEOUT;
  let timeoutMs = v.OTEL_EXPORTER_OTLP_TIMEOUT;
  if (signalTimeout !== undefined) {
    if (!/^\d{1,6}$/.test(signalTimeout) || Number(signalTimeout) < 1 || Number(signalTimeout) > 600_000) {
      throw new ConfigError(
        `Invalid configuration: OTEL_EXPORTER_OTLP_METRICS_TIMEOUT must be an integer from 1 to 600000 (ms), got ${JSON.stringify(signalTimeout)}`,
      );
    }
    timeoutMs = Number(signalTimeout);
  }
  try {
    const headers = rawHeaders ? parseOtelKeyValues(headersName, rawHeaders, HEADER_NAME) : {};
    const resource = parseResource(v);
    return {
      metricsUrl: signalEndpoint || `${endpoint.replace(/\/+$/, "")}/v1/metrics`,
      headers,
      resource,
      timeoutMs,
      compression: v.OTEL_EXPORTER_OTLP_METRICS_COMPRESSION ?? v.OTEL_EXPORTER_OTLP_COMPRESSION ?? "auto",
    };
  } catch (err) {
    throw new ConfigError(`Invalid configuration: ${(err as Error).message}`);
  }
}
