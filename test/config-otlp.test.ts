import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { app } from "../src/app";
import { ConfigError, getConfig } from "../src/config";
import type { Env } from "../src/env";

// getConfig caches per env object: every case builds its own.
const config = (vars: Record<string, string>) => getConfig(vars as unknown as Env);
const failure = (vars: Record<string, string>) => {
  try {
    config(vars);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error(`no ConfigError for ${JSON.stringify(vars)}`);
};

describe("push configuration", () => {
  it("pushes every 60 s by default and nothing without the push variables", () => {
    const c = config({});
    expect(c.remoteWriteIntervalS).toBe(60);
    expect(c.otlp).toBeNull();
    expect(c.remoteWrite).toBeNull();
  });

  it("reads the OTLP endpoint and the headers as Grafana Cloud shows them", () => {
    const c = config({
      OTEL_EXPORTER_OTLP_ENDPOINT: "https://otlp-gateway-prod-eu-west-2.grafana.net/otlp/",
      OTEL_EXPORTER_OTLP_HEADERS:
        "Authorization=Basic%20MTIzNDU2OmdsY190b2tlbg%3D%3D, X-Scope-OrgID = tenant-1",
    });
    expect(c.otlp).toEqual({
      metricsUrl: "https://otlp-gateway-prod-eu-west-2.grafana.net/otlp/v1/metrics",
      headers: { Authorization: "Basic MTIzNDU2OmdsY190b2tlbg==", "X-Scope-OrgID": "tenant-1" },
      resource: { "service.name": "zander-edge", "service.instance.id": "metrics-shard-0" },
      timeoutMs: 10_000,
      compression: "auto",
    });
  });

  it("lets the per-signal variables and OTEL_SERVICE_NAME take precedence, as the OpenTelemetry spec says", () => {
    const c = config({
      OTEL_EXPORTER_OTLP_ENDPOINT: "https://general.test/otlp",
      OTEL_EXPORTER_OTLP_HEADERS: "Authorization=Basic general",
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: "https://metrics.test/custom/path",
      OTEL_EXPORTER_OTLP_METRICS_HEADERS: "Authorization=Basic metrics",
      OTEL_EXPORTER_OTLP_TIMEOUT: "5000",
      OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: "2500",
      OTEL_EXPORTER_OTLP_COMPRESSION: "gzip",
      OTEL_EXPORTER_OTLP_METRICS_COMPRESSION: "none",
      OTEL_RESOURCE_ATTRIBUTES: "service.name=from-attributes",
      OTEL_SERVICE_NAME: "edge-eu",
    });
    expect(c.otlp).toMatchObject({
      metricsUrl: "https://metrics.test/custom/path",
      headers: { Authorization: "Basic metrics" },
      timeoutMs: 2_500,
      compression: "none",
      resource: { "service.name": "edge-eu" },
    });
    expect(
      config({ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: "https://m.test/v1/metrics" }).otlp?.metricsUrl,
    ).toBe("https://m.test/v1/metrics");
    expect(
      failure({ OTEL_EXPORTER_OTLP_ENDPOINT: "https://g.test", OTEL_EXPORTER_OTLP_COMPRESSION: "zstd" }),
    ).toMatch(/OTEL_EXPORTER_OTLP_COMPRESSION must be gzip or none/);
    expect(
      failure({ OTEL_EXPORTER_OTLP_ENDPOINT: "https://g.test", OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: "1e3" }),
    ).toMatch(/OTEL_EXPORTER_OTLP_METRICS_TIMEOUT must be an integer/);
  });

  it("takes job and instance from OTEL_RESOURCE_ATTRIBUTES over the defaults", () => {
    const c = config({
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318",
      OTEL_RESOURCE_ATTRIBUTES: "service.instance.id=edge.example.workers.dev,deployment.environment=prod",
    });
    expect(c.otlp?.headers).toEqual({});
    expect(c.otlp?.resource).toEqual({
      "service.name": "zander-edge",
      "service.instance.id": "edge.example.workers.dev",
      "deployment.environment": "prod",
    });
  });

  it.each([
    [{ OTEL_EXPORTER_OTLP_HEADERS: "Authorization=Basic%20x" }, "OTEL_EXPORTER_OTLP_ENDPOINT is required"],
    [
      { OTEL_EXPORTER_OTLP_ENDPOINT: "grpc://collector:4317" },
      "OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL",
    ],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: "https://x.test/otlp/v1/metrics" }, "/v1/metrics is appended"],
    [
      { OTEL_EXPORTER_OTLP_ENDPOINT: "https://x.test/otlp", OTEL_EXPORTER_OTLP_HEADERS: "Authorization" },
      "OTEL_EXPORTER_OTLP_HEADERS entry 1 of 1 is not key=value",
    ],
    [
      { OTEL_EXPORTER_OTLP_ENDPOINT: "https://x.test/otlp", OTEL_EXPORTER_OTLP_HEADERS: "a=1,,b=2" },
      "OTEL_EXPORTER_OTLP_HEADERS entry 2 of 3",
    ],
    [
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: "https://x.test/otlp",
        OTEL_EXPORTER_OTLP_HEADERS: "Authorization=%E0%A4%A",
      },
      "OTEL_EXPORTER_OTLP_HEADERS entry 1 of 1 (Authorization)",
    ],
    [
      { OTEL_EXPORTER_OTLP_ENDPOINT: "https://x.test/otlp", OTEL_EXPORTER_OTLP_HEADERS: "Authorization=a;b" },
      'OTEL_EXPORTER_OTLP_HEADERS entry 1 of 1 (Authorization) has a ";"',
    ],
    [
      { OTEL_EXPORTER_OTLP_ENDPOINT: "https://x.test/otlp", OTEL_EXPORTER_OTLP_HEADERS: "Bad Name=1" },
      'OTEL_EXPORTER_OTLP_HEADERS entry 1 of 1 has an invalid key "Bad Name"',
    ],
    [
      { OTEL_EXPORTER_OTLP_ENDPOINT: "https://x.test/otlp", OTEL_RESOURCE_ATTRIBUTES: "service.name" },
      "OTEL_RESOURCE_ATTRIBUTES entry 1 of 1",
    ],
    [{ REMOTE_WRITE_INTERVAL_S: "0" }, "REMOTE_WRITE_INTERVAL_S must be an integer"],
  ])("fails loudly on %j", (vars, message) => {
    expect(failure(vars)).toContain(message);
  });

  it("never repeats a header value in its error (they hold credentials)", () => {
    const message = failure({
      OTEL_EXPORTER_OTLP_ENDPOINT: "https://x.test/otlp",
      OTEL_EXPORTER_OTLP_HEADERS: "Authorization=%ZZsecret-token",
    });
    expect(message).toContain("Authorization");
    expect(message).not.toContain("secret-token");
  });
});

describe("a bad push variable fails the first request loudly", () => {
  it.each(["/health", "/metrics"])("%s answers 500 naming the variable", async (path) => {
    const bad = { ...env, OTEL_EXPORTER_OTLP_HEADERS: "Authorization=Basic%20abc" };
    const res = await app.request(path, { headers: { Authorization: "Bearer test-metrics-token" } }, bad);
    expect(res.status).toBe(500);
    expect(JSON.stringify(await res.json())).toContain(
      "OTEL_EXPORTER_OTLP_ENDPOINT is required when OTEL_EXPORTER_OTLP_HEADERS is set",
    );
  });
});
