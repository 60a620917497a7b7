import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { METRICS } from "../../src/metrics/catalogue.ts";
import { startWranglerDev, type WranglerDev } from "../../tools/lib/wrangler-dev.ts";
import {
  type Client,
  driveTraffic,
  E2E_AUTH_SECRET,
  E2E_METRICS_TOKEN,
  parseSamples,
  scrapeText,
  settledScrape,
} from "./support/metrics-traffic";
import {
  attributeMap,
  type DecodedRequest,
  type OtlpPush,
  type OtlpReceiver,
  prometheusSamples,
  scrapedSeriesId,
  startOtlpReceiver,
} from "./support/otlp-receiver";

const WRANGLER_PORT = 18901;
const RECEIVER_PORT = 19901;
/** The receiver answers the first requests 503, to prove that they are retried within the push. */
const FAILED_PUSHES = 2;
const BASIC = `Basic ${Buffer.from("123456:glc_e2e-token").toString("base64")}`;

/** What the scrapes themselves move: their own route's HTTP series and the unlabelled body-size histograms. */
const movedByScrapes = (id: string) =>
  /route="\/metrics(-custom)?"/.test(id) ||
  /^http_(request|response)_size_bytes/.test(id) ||
  /^(otlp_export_requests_total|http_requests_in_progress)/.test(id);

const ns = (p: { timeUnixNano: string }) => BigInt(p.timeUnixNano);

/** Every data point of a request with its metric, for checks across all of them. */
function points(request: DecodedRequest) {
  return request.resourceMetrics.flatMap((rm) =>
    rm.scopeMetrics.flatMap((sm) =>
      sm.metrics.flatMap((m) =>
        [
          ...(m.sum?.dataPoints ?? []),
          ...(m.gauge?.dataPoints ?? []),
          ...(m.histogram?.dataPoints ?? []),
        ].map((p) => ({ metric: m, point: p, id: `${m.name}${JSON.stringify(attributeMap(p.attributes))}` })),
      ),
    ),
  );
}

describe("OTLP push to a local receiver that decodes with the published definitions", () => {
  let dev: WranglerDev;
  let receiver: OtlpReceiver;
  let clients: { relay: Client; consumer: Client };
  let startedAt: number;
  const accepted = () =>
    receiver.pushes.filter(
      (p): p is OtlpPush & { request: DecodedRequest } => p.status === 200 && !!p.request,
    );

  beforeAll(async () => {
    startedAt = Date.now();
    receiver = await startOtlpReceiver(RECEIVER_PORT, FAILED_PUSHES);
    dev = await startWranglerDev({
      port: WRANGLER_PORT,
      vars: {
        AUTH_SECRET: E2E_AUTH_SECRET,
        METRICS_TOKEN: E2E_METRICS_TOKEN,
        // As Grafana Cloud's portal shows them: the gateway's /otlp base and a percent-encoded basic auth header.
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${RECEIVER_PORT}/otlp`,
        OTEL_EXPORTER_OTLP_HEADERS: `Authorization=${encodeURIComponent(BASIC)},X-Scope-OrgID=e2e-tenant`,
        OTEL_RESOURCE_ATTRIBUTES: "service.instance.id=e2e-worker",
        REMOTE_WRITE_INTERVAL_S: "1",
      },
      args: ["--test-scheduled"],
    });
    clients = await driveTraffic(dev.url, "otlp-e2e-user");
  });

  afterAll(async () => {
    await clients?.relay.close().catch(() => {});
    await clients?.consumer.close().catch(() => {});
    await dev?.stop();
    await receiver?.close();
  });

  it("pushes every series with the values of a scrape taken at the same moment", async () => {
    // The cron arms shard 0's push alarm (crons fire locally only through /__scheduled).
    expect((await fetch(`${dev.url}/__scheduled?cron=*+*+*+*+*`)).status).toBe(200);
    await settledScrape(dev.url, 'messages_received_total{message_type="samples",user_id="otlp-e2e-user"} 5');
    const scrapedAt = Date.now();
    const scraped = parseSamples(await scrapeText(dev.url, "/metrics"));

    // The first push whose points are stamped after the scrape.
    const deadline = Date.now() + 30_000;
    let push: (OtlpPush & { request: DecodedRequest }) | undefined;
    while (!push) {
      push = accepted().find((p) =>
        points(p.request).some((x) => ns(x.point) > BigInt(scrapedAt) * 1_000_000n),
      );
      if (push) break;
      if (Date.now() > deadline)
        throw new Error(`no push after the scrape: ${JSON.stringify(receiver.pushes)}`);
      await new Promise((r) => setTimeout(r, 200));
    }

    const pushed = prometheusSamples(push.request);
    const scrapedById = new Map([...scraped].map(([key, value]) => [scrapedSeriesId(key), value]));
    let compared = 0;
    for (const [id, value] of scrapedById) {
      // The push counter moves with every push, the scrape's own in-progress gauge with every scrape.
      if (/^(otlp_export_requests_total|http_requests_in_progress)/.test(id)) continue;
      // A counter the scrapes move may only have grown by the time of the push.
      if (movedByScrapes(id)) expect(pushed.get(id), id).toBeGreaterThanOrEqual(value);
      else expect(pushed.get(id), id).toBe(value);
      compared++;
    }
    // Nothing pushed that the scrape does not expose.
    expect([...pushed.keys()].filter((id) => !scrapedById.has(id) && !movedByScrapes(id))).toEqual([]);
    expect(compared).toBeGreaterThan(100);
    expect(pushed.get('messages_received_total{message_type="samples",user_id="otlp-e2e-user"}')).toBe(5);
    expect(pushed.get("edge_relay_connections")).toBe(1);
  });

  it("names job and instance on the resource, and sends cumulative sums and histograms with real times", () => {
    const pushes = accepted();
    expect(pushes.length).toBeGreaterThan(1);
    for (const push of pushes) {
      expect(push.request.resourceMetrics).toHaveLength(1);
      expect(attributeMap(push.request.resourceMetrics[0]?.resource.attributes ?? [])).toMatchObject({
        "service.name": "zander-edge",
        "service.instance.id": "e2e-worker",
      });
      for (const { metric, point } of points(push.request)) {
        if (metric.sum) {
          expect(metric.sum.aggregationTemporality, metric.name).toBe("AGGREGATION_TEMPORALITY_CUMULATIVE");
          expect(metric.sum.isMonotonic, metric.name).toBe(true);
        }
        if (metric.histogram)
          expect(metric.histogram.aggregationTemporality).toBe("AGGREGATION_TEMPORALITY_CUMULATIVE");
        const start = BigInt(point.startTimeUnixNano);
        // Start: when the metrics shards began counting (during this test); point time: the push, after it.
        expect(start, metric.name).toBeGreaterThanOrEqual(BigInt(startedAt - 1_000) * 1_000_000n);
        expect(ns(point), metric.name).toBeGreaterThan(start);
        expect(ns(point), metric.name).toBeLessThanOrEqual(BigInt(Date.now()) * 1_000_000n);
      }
    }
  });

  it("keeps counters monotonic and start times fixed across pushes, with increasing point times", () => {
    const pushes = accepted();
    const seen = new Map<string, { value: number; start: string; time: bigint }>();
    let checked = 0;
    for (const push of pushes) {
      for (const { metric, point, id } of points(push.request)) {
        if (metric.gauge) continue;
        const value = "count" in point ? Number(point.count) : (point.asDouble ?? 0);
        const before = seen.get(id);
        if (before) {
          expect(value, id).toBeGreaterThanOrEqual(before.value);
          expect(point.startTimeUnixNano, id).toBe(before.start);
          expect(ns(point), id).toBeGreaterThan(before.time);
          checked++;
        }
        seen.set(id, { value, start: point.startTimeUnixNano, time: ns(point) });
      }
    }
    expect(checked).toBeGreaterThan(20);
  });

  it("keeps every histogram's buckets as the catalogue defines them", () => {
    const last = accepted().at(-1)?.request as DecodedRequest;
    const histograms = last.resourceMetrics[0]?.scopeMetrics.flatMap((sm) =>
      sm.metrics.filter((m) => m.histogram),
    );
    expect(histograms?.map((m) => m.name)).toEqual(
      expect.arrayContaining([
        "ws_message_latency_seconds",
        "http_request_duration_seconds",
        "db_batch_size",
      ]),
    );
    for (const m of histograms ?? []) {
      for (const p of m.histogram?.dataPoints ?? []) {
        expect(p.explicitBounds, m.name).toEqual([...(METRICS[m.name]?.boundaries ?? [])]);
        expect(p.bucketCounts, m.name).toHaveLength(p.explicitBounds.length + 1);
        expect(
          p.bucketCounts.reduce((a, c) => a + Number(c), 0),
          m.name,
        ).toBe(Number(p.count));
      }
    }
    expect(
      histograms?.find((m) => m.name === "ws_message_latency_seconds")?.histogram?.dataPoints[0]
        ?.explicitBounds,
    ).toEqual([0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5]);
  });

  it("sends OTLP/HTTP protobuf, gzipped, with the configured headers; retries a 503 within the push", async () => {
    for (const p of receiver.pushes) {
      expect(p.decodeError).toBeUndefined();
      expect(p.path).toBe("/otlp/v1/metrics");
      expect(p.headers["content-type"]).toBe("application/x-protobuf");
      expect(p.headers["content-encoding"]).toBe("gzip");
      expect(p.headers.authorization).toBe(BASIC);
      expect(p.headers["x-scope-orgid"]).toBe("e2e-tenant");
    }
    expect(receiver.pushes.slice(0, FAILED_PUSHES).map((p) => p.status)).toEqual([503, 503]);
    const samples = parseSamples(await scrapeText(dev.url, "/metrics-custom"));
    // Retried with backoff inside the push while its interval (1 s here) lasts; a request still failing when
    // that time ran out is counted, at most once per 503 answered.
    expect(samples.get('otlp_export_requests_total{result="failure"}') ?? 0).toBeLessThanOrEqual(
      FAILED_PUSHES,
    );
    expect(samples.get('otlp_export_requests_total{result="success"}')).toBeGreaterThan(0);
    // Remote-write is not configured here: it pushes nothing and counts nothing.
    expect([...samples.keys()].filter((k) => k.startsWith("remote_write_requests_total"))).toEqual([]);
  });
});
