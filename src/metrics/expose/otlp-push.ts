import { millisToHrTime } from "@opentelemetry/core";
import { ProtobufMetricsSerializer } from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes } from "@opentelemetry/resources";
import type { OtlpTarget } from "../../config";
import type { MergedMetrics } from "./merge";
import { toResourceMetrics } from "./render";

/** Bodies from this size on are gzipped: below it the gzip header costs about what compression saves. */
export const GZIP_FROM_BYTES = 1_024;

export type OtlpPushResult = "success" | "partial";

/**
 * Pushes every merged series as one OTLP/HTTP protobuf ExportMetricsServiceRequest: cumulative temporality
 * (what Grafana Cloud's OTLP gateway accepts), start time = when the shards began counting, point time =
 * `timeMs`. Serialized by the OpenTelemetry SDK's own protobuf writer (no code generation, so it runs in workerd).
 * Answers "partial" when the receiver took the request but rejected some points; throws on any non-2xx answer.
 */
export async function pushOtlp(
  target: OtlpTarget,
  merged: MergedMetrics,
  timeMs: number,
): Promise<OtlpPushResult> {
  const resourceMetrics = toResourceMetrics(merged, {
    resource: resourceFromAttributes(target.resource),
    startTime: millisToHrTime(Math.min(merged.countingSince || timeMs, timeMs)),
    time: millisToHrTime(timeMs),
    withoutEmpty: true,
  });
  const encoded = ProtobufMetricsSerializer.serializeRequest(resourceMetrics);
  if (!encoded) throw new Error("OTLP serializer produced no request");
  const gzip = encoded.byteLength >= GZIP_FROM_BYTES;
  const body = gzip ? await gzipped(encoded) : encoded;
  const res = await fetch(target.metricsUrl, {
    method: "POST",
    headers: {
      "User-Agent": "zander-edge",
      ...target.headers,
      "Content-Type": "application/x-protobuf",
      ...(gzip ? { "Content-Encoding": "gzip" } : {}),
    },
    body,
  });
  const answer = new Uint8Array(await res.arrayBuffer().catch(() => new ArrayBuffer(0)));
  if (!res.ok) {
    const detail = new TextDecoder().decode(answer.subarray(0, 300));
    throw new Error(`OTLP push to ${new URL(target.metricsUrl).host} answered ${res.status}: ${detail}`);
  }
  return partialRejection(answer, res.headers.get("content-type")) ? "partial" : "success";
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
