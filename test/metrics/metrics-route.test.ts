import { env, evictDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { app } from "../../src/app";
import { shardStub } from "../../src/metrics/aggregate/shard-stub";
import { PROMETHEUS_CONTENT_TYPE } from "../../src/metrics/expose/render";
import { METRICS_TOKEN, scrape, series, seriesValue } from "./support";

const get = (path: string, headers: Record<string, string> = {}) =>
  exports.default.fetch(`https://edge.test${path}`, { headers });

describe("GET /metrics and /metrics-custom: access", () => {
  for (const path of ["/metrics", "/metrics-custom"]) {
    it(`${path}: 401 without a token, with a wrong token, or with another scheme`, async () => {
      const attempts: Record<string, string>[] = [
        {},
        { Authorization: "Bearer wrong" },
        { Authorization: `Bearer ${METRICS_TOKEN}x` },
        { Authorization: `Basic ${METRICS_TOKEN}` },
      ];
      for (const headers of attempts) {
        const res = await get(path, headers);
        expect(res.status, JSON.stringify(headers)).toBe(401);
        expect(await res.text()).not.toContain("# TYPE");
      }
    });

    it(`${path}: Bearer in any case, and a malformed header refused saying so`, async () => {
      const lower = await get(path, { Authorization: `bearer ${METRICS_TOKEN}` });
      expect(lower.status).toBe(200);
      await lower.body?.cancel();
      const junk = await get(path, { Authorization: `Bearer ${METRICS_TOKEN} junk` });
      expect(junk.status).toBe(401);
      expect(await junk.json()).toEqual({
        type: "error",
        code: "unauthorized",
        message: "malformed Authorization header: expected `Bearer <token>`",
      });
    });

    it(`${path}: 503 when METRICS_TOKEN is not configured, whatever the request sends`, async () => {
      const unset = { ...env, METRICS_TOKEN: undefined };
      const attempts: Record<string, string>[] = [
        {},
        { Authorization: "Bearer " },
        { Authorization: `Bearer ${METRICS_TOKEN}` },
      ];
      for (const headers of attempts) {
        const res = await app.request(path, { headers }, unset);
        expect(res.status).toBe(503);
        expect(await res.json()).toMatchObject({ type: "error", code: "metrics_disabled" });
      }
    });

    it(`${path}: 200 Prometheus text 0.0.4 with the token`, async () => {
      const res = await get(path, { Authorization: `Bearer ${METRICS_TOKEN}` });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe(PROMETHEUS_CONTENT_TYPE);
      const text = await res.text();
      expect(text).toContain("# TYPE edge_relay_connections gauge");
      expect(text).not.toMatch(/# UNIT|otel_scope|target_info/);
    });
  }
});

describe("HTTP metrics", () => {
  it("counts requests by method, route pattern and status, with duration and sizes", async () => {
    const before = await scrape();
    const health = (t: string) =>
      seriesValue(t, "http_requests_total", 'method="GET",route="/health",status="200"') ?? 0;
    const missing = (t: string) =>
      seriesValue(t, "http_requests_total", 'method="GET",route="unmatched",status="404"') ?? 0;
    for (let i = 0; i < 3; i++) expect((await get("/health")).status).toBe(200);
    expect((await get("/no/such/path/123")).status).toBe(404);
    // Each request ships its metrics under waitUntil after answering: a scrape sees them once delivered.
    let after = "";
    await vi.waitFor(async () => {
      after = await scrape();
      expect(health(after) - health(before)).toBe(3);
      expect(missing(after) - missing(before)).toBe(1);
    });
    // The raw path never becomes a label.
    expect(after).not.toContain("/no/such/path/123");
    const count = (t: string) =>
      seriesValue(t, "http_request_duration_seconds_count", 'method="GET",route="/health"') ?? 0;
    expect(count(after) - count(before)).toBe(3);
    expect(series(after, "http_response_size_bytes_count")[0]?.value).toBeGreaterThanOrEqual(4);
    expect(series(after, "http_request_size_bytes_bucket").length).toBeGreaterThan(0);
    expect(after).toContain("# TYPE http_requests_in_progress gauge");
  });

  it("/metrics-custom leaves out every http_* series", async () => {
    await get("/health");
    const custom = await scrape("/metrics-custom");
    expect(custom).not.toMatch(/^http_/m);
    expect(custom).toContain("edge_relay_connections 0");
    expect(await scrape()).toMatch(/^http_requests_total\{/m);
  });
});

describe("consistency across scrapes and evictions", () => {
  it("answers the same values on repeated scrapes and after every shard was evicted", async () => {
    await get("/health");
    const first = await scrape("/metrics-custom");
    const second = await scrape("/metrics-custom");
    expect(second).toBe(first);
    const health = async () =>
      seriesValue(await scrape(), "http_requests_total", 'method="GET",route="/health",status="200"');
    // A batch another request is still sending (under waitUntil) reaches the shards a moment later: wait until
    // the count has settled before comparing.
    let healthBefore: number | undefined;
    await vi.waitFor(async () => {
      healthBefore = await health();
      expect(await health()).toBe(healthBefore);
    });
    for (let i = 0; i < 4; i++) await evictDurableObject(shardStub(env, i));
    expect(await scrape("/metrics-custom")).toBe(first);
    expect(await health()).toBe(healthBefore);
  });
});
