import { ProtobufMetricsSerializer } from "@opentelemetry/otlp-transformer";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { OtlpTarget } from "../../config";
import { mergeShardStates } from "./merge";
import { pushOtlp } from "./otlp-push";

// Runs inside workerd: the serializer and CompressionStream work there without code generation. The end-to-end
// test (test/e2e/metrics-otlp.e2e.test.ts) decodes real pushes; this covers the answers a receiver can give.
const target: OtlpTarget = {
  metricsUrl: "https://otlp.test/otlp/v1/metrics",
  headers: { Authorization: "Basic abc" },
  resource: { "service.name": "zander-edge", "service.instance.id": "metrics-shard-0" },
  timeoutMs: 1_000,
  compression: "auto",
};
/** Merged metrics with `users` series of messages_received (plus the always-present gauges). */
const mergedWith = (users: number) =>
  mergeShardStates(
    [
      {
        counters: Array.from({ length: users }, (_, i) => ({
          name: "messages_received",
          labels: { message_type: "samples", user_id: `user-${i}` },
          value: i,
        })),
        histograms: [],
        gauges: [],
        countingSince: 1_700_000_000_000,
      },
    ],
    100,
  );
const merged = mergedWith(1);

/** Answers every fetch with `response` and records the requests. */
function receiver(response: () => Response): Request[] {
  const seen: Request[] = [];
  vi.stubGlobal("fetch", async (input: RequestInfo, init?: RequestInit) => {
    seen.push(new Request(input, init));
    return response();
  });
  return seen;
}

const policy = () => ({ timeoutMs: 1_000, deadline: Date.now() + 5_000, backoffMs: 10 });

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("pushOtlp", () => {
  it("posts protobuf to the metrics URL with the configured headers, gzipped from 1 KiB on", async () => {
    const requests = receiver(() => new Response(null, { status: 200 }));
    expect(await pushOtlp(target, mergedWith(1), 1_700_000_060_000, policy())).toBe("success");
    expect(await pushOtlp(target, mergedWith(50), 1_700_000_060_000, policy())).toBe("success");
    const [small, large] = requests;
    for (const request of requests) {
      expect(request.url).toBe(target.metricsUrl);
      expect(request.headers.get("authorization")).toBe("Basic abc");
      expect(request.headers.get("content-type")).toBe("application/x-protobuf");
    }
    expect(small?.headers.get("content-encoding")).toBeNull();
    expect(new TextDecoder().decode(await small?.arrayBuffer())).toContain("user-0");
    expect(large?.headers.get("content-encoding")).toBe("gzip");
    const body = await new Response(large?.body?.pipeThrough(new DecompressionStream("gzip"))).arrayBuffer();
    expect(body.byteLength).toBeGreaterThanOrEqual(1_024);
    expect(new TextDecoder().decode(body)).toContain("user-49");
  });

  it("answers partial when the receiver rejected some points", async () => {
    // An ExportMetricsServiceResponse{partial_success{rejected_data_points: 2, error_message: "bad"}}.
    const answer = new Uint8Array([0x0a, 0x07, 0x08, 0x02, 0x12, 0x03, 0x62, 0x61, 0x64]);
    expect(ProtobufMetricsSerializer.deserializeResponse(answer).partialSuccess?.rejectedDataPoints).toBe(2);
    receiver(() => new Response(answer, { headers: { "content-type": "application/x-protobuf" } }));
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    expect(await pushOtlp(target, merged, 1_700_000_060_000, policy())).toBe("partial");
    expect(errors).toHaveBeenCalledWith("OTLP push: receiver rejected 2 data points: bad");
  });

  it("answers rejected on a refusal, logging the status and the receiver's answer, without retrying it", async () => {
    const requests = receiver(() => new Response("authentication error: invalid token", { status: 401 }));
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    expect(await pushOtlp(target, merged, 1_700_000_060_000, policy())).toBe("rejected");
    expect(requests).toHaveLength(1);
    expect(errors).toHaveBeenCalledWith(
      "OTLP push to otlp.test: rejected (401, 1 attempts): authentication error: invalid token",
    );
  });
});
