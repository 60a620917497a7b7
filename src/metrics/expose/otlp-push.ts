import { millisToHrTime } from "@opentelemetry/core";
import { ProtobufMetricsSerializer } from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes } from "@opentelemetry/resources";
import type { OtlpTarget } from "../../config";
import type { MergedMetrics } from "./merge";
import { PUSH_USER_AGENT, type PushOutcome, type PushPolicy, postPush } from "./push-request";
import { toResourceMetrics } from "./render";

/** Bodies from this size on are gzipped: below it the gzip header costs about what compression saves. */
export const GZIP_FROM_BYTES = 1_024;

export type OtlpPushResult = PushOutcome | "partial";

/** Statuses the OTLP exporter spec retries. */
const retryable = (status: number) => status === 429 || status === 502 || status === 503 || status === 504;

/**
 * Pushes every merged series as one OTLP/HTTP protobuf ExportMetricsServiceRequest: cumulative temporality
 * (what Grafana Cloud's OTLP gateway accepts), start time = when the shards began counting, point time =
 * `timeMs`. Serialized by the OpenTelemetry SDK's own protobuf writer (no code generation, so it runs in workerd).
 * Answers "partial" when the receiver took the request but rejected some points, else the request's outcome.
 */
export async function pushOtlp(
  target: OtlpTarget,
  merged: MergedMetrics,
  timeMs: number,
  policy: Omit<PushPolicy, "retryable">,
): Promise<OtlpPushResult> {
  const resourceMetrics = toResourceMetrics(merged, {
    resource: resourceFromAttributes(target.resource),
    startTime: millisToHrTime(Math.min(merged.countingSince || timeMs, timeMs)),
    time: millisToHrTime(timeMs),
    withoutEmpty: true,
  });
  const encoded = ProtobufMetricsSerializer.serializeRequest(resourceMetrics);
  if (!encoded) throw new Error("OTLP serializer produced no request");
  const gzip =
    target.compression === "gzip" || (target.compression === "auto" && encoded.byteLength >= GZIP_FROM_BYTES);
  const body = gzip ? await gzipped(encoded) : encoded;
  const answer = await postPush(
    target.metricsUrl,
    {
      headers: {
        "User-Agent": PUSH_USER_AGENT,
        ...target.headers,
        "Content-Type": "application/x-protobuf",
        ...(gzip ? { "Content-Encoding": "gzip" } : {}),
      },
      body,
    },
    { ...policy, timeoutMs: target.timeoutMs, retryable },
  );
  if (answer.outcome !== "success") {
    console.error(
      `OTLP push to ${new URL(target.metricsUrl).host}: ${answer.outcome} (${answer.status ?? "no answer"}, ${answer.attempts} attempts): ${answer.detail ?? ""}`,
    );
    return answer.outcome;
  }
  return partialRejection(answer.body ?? new Uint8Array(), answer.contentType ?? null)
    ? "partial"
    : "success";
}

/** Logs and reports an ExportMetricsServiceResponse that says some points were rejected. */
function partialRejection(answer: Uint8Array, contentType: string | null): boolean {
  if (answer.byteLength === 0 || !contentType?.includes("protobuf")) return false;
  try {
    const partial = ProtobufMetricsSerializer.deserializeResponse(answer).partialSuccess;
    if (!partial?.rejectedDataPoints) return false;
    console.error(
      `OTLP push: receiver rejected ${partial.rejectedDataPoints} data points: ${partial.errorMessage ?? ""}`,
    );
    return true;
  } catch {
    return false;
  }
}

async function gzipped(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
