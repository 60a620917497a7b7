import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWranglerDev, type WranglerDev } from "../../tools/lib/wrangler-dev.ts";
import { type Daemon, startDaemon } from "./support/daemon";
import {
  type Client,
  driveTraffic,
  E2E_AUTH_SECRET,
  E2E_METRICS_TOKEN,
  parseSamples,
  scrapeText,
  settledScrape,
} from "./support/metrics-traffic";

const WRANGLER_PORT = 18801;
const RECEIVER_PORT = 19101;
const PROXY_PORT = 19102;
const USERNAME = "push-user";
const PASSWORD = "push-password";
/** The proxy answers the first requests 503, to prove that they are retried within the push (spec: MUST retry 5xx). */
const FAILED_PUSHES = 2;

interface Push {
  headers: IncomingHttpHeaders;
  status: number;
}

/** Sits between the Worker and Prometheus: records each push's headers and forwards the body unchanged. */
function startProxy(pushes: Push[]): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      if (pushes.length < FAILED_PUSHES) {
        pushes.push({ headers: req.headers, status: 503 });
        res.writeHead(503).end("try later");
        return;
      }
      const upstream = await fetch(`http://127.0.0.1:${RECEIVER_PORT}/api/v1/write`, {
        method: "POST",
        headers: {
          "Content-Encoding": String(req.headers["content-encoding"]),
          "Content-Type": String(req.headers["content-type"]),
          "X-Prometheus-Remote-Write-Version": String(req.headers["x-prometheus-remote-write-version"]),
        },
        body: Buffer.concat(chunks),
      });
      pushes.push({ headers: req.headers, status: upstream.status });
      res.writeHead(upstream.status).end(await upstream.text());
    });
  });
  return new Promise((resolve) => server.listen(PROXY_PORT, "127.0.0.1", () => resolve(server)));
}

/** `name{a="1",b="2"}` with labels sorted and `job` left out, for comparing a scrape with pushed series. */
function canonical(name: string, labels: Record<string, string>): string {
  const keys = Object.keys(labels)
    .filter((k) => k !== "job" && k !== "instance" && k !== "__name__")
    .sort();
  return `${name}{${keys.map((k) => `${k}="${labels[k]}"`).join(",")}}`;
}

function parseKey(key: string): { name: string; labels: Record<string, string> } {
  const brace = key.indexOf("{");
  if (brace < 0) return { name: key, labels: {} };
  const labels: Record<string, string> = {};
  for (const m of key.slice(brace + 1, -1).matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
    labels[m[1] as string] = m[2] as string;
  }
  return { name: key.slice(0, brace), labels };
}

describe("remote-write push to a real Prometheus receiver", () => {
  let dev: WranglerDev;
  let receiver: Daemon;
  let proxy: Server;
  let dir: string;
  let clients: { relay: Client; consumer: Client };
  const pushes: Push[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "zander-metrics-rw-"));
    writeFileSync(join(dir, "prometheus.yml"), "global: {}\n");
    receiver = await startDaemon(
      "prometheus",
      [
        `--config.file=${join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${RECEIVER_PORT}`,
        "--web.enable-remote-write-receiver",
      ],
      `http://127.0.0.1:${RECEIVER_PORT}/-/ready`,
    );
    proxy = await startProxy(pushes);
    dev = await startWranglerDev({
      port: WRANGLER_PORT,
      vars: {
        AUTH_SECRET: E2E_AUTH_SECRET,
        METRICS_TOKEN: E2E_METRICS_TOKEN,
        PROMETHEUS_REMOTE_WRITE_URL: `http://127.0.0.1:${PROXY_PORT}/api/v1/write`,
        PROMETHEUS_REMOTE_WRITE_USERNAME: USERNAME,
        PROMETHEUS_REMOTE_WRITE_PASSWORD: PASSWORD,
        REMOTE_WRITE_INTERVAL_S: "1",
      },
      args: ["--test-scheduled"],
    });
    clients = await driveTraffic(dev.url, "push-e2e-user");
  });

  afterAll(async () => {
    await clients?.relay.close().catch(() => {});
    await clients?.consumer.close().catch(() => {});
    await dev?.stop();
    proxy?.closeAllConnections();
    await new Promise((r) => (proxy ? proxy.close(r) : r(undefined)));
    await receiver?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("pushes every series, with values equal to a scrape taken at the same moment", async () => {
    // The cron arms shard 0's push alarm (crons fire locally only through /__scheduled).
    expect((await fetch(`${dev.url}/__scheduled?cron=*+*+*+*+*`)).status).toBe(200);
    const scraped = parseSamples(
      await settledScrape(
        dev.url,
        'messages_received_total{message_type="samples",user_id="push-e2e-user"} 5',
      ),
    );
    const scrapedAt = Date.now();

    const query = async (expr: string) => {
      const res = await fetch(
        `http://127.0.0.1:${RECEIVER_PORT}/api/v1/query?query=${encodeURIComponent(expr)}`,
      );
      const body = (await res.json()) as {
        data: { result: { metric: Record<string, string>; value: [number, string] }[] };
      };
      return body.data.result;
    };
    // Wait for a push stamped after the scrape.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const [latest] = await query('timestamp(edge_relay_connections{job="zander-edge"})');
      if (latest && Number(latest.value[1]) * 1000 > scrapedAt) break;
      if (Date.now() > deadline)
        throw new Error(`no push after the scrape; pushes: ${JSON.stringify(pushes)}`);
      await new Promise((r) => setTimeout(r, 500));
    }

    const pushed = new Map<string, number>();
    for (const r of await query('{job="zander-edge"}')) {
      // Every series carries the deployment's instance (a metric's own would be exported_instance).
      expect(r.metric.instance, r.metric.__name__).toBe("metrics-shard-0");
      pushed.set(canonical(r.metric.__name__ as string, r.metric), Number(r.value[1]));
    }
    let compared = 0;
    for (const [key, value] of scraped) {
      const { name, labels } = parseKey(key);
      // The pipeline's own push counter moves with every push.
      if (name.startsWith("remote_write_requests")) continue;
      expect(pushed.get(canonical(name, labels)), key).toBe(value);
      compared++;
    }
    expect(compared).toBeGreaterThan(50);
    expect(scraped.get('messages_received_total{message_type="samples",user_id="push-e2e-user"}')).toBe(5);
  });

  it("sends remote-write 1.0 headers with basic auth and a versioned User-Agent, retries 5xx within the push", async () => {
    const ok = pushes.filter((p) => p.status === 204 || p.status === 200);
    expect(ok.length).toBeGreaterThan(0);
    expect(pushes.slice(FAILED_PUSHES).every((p) => p.status < 300)).toBe(true);
    for (const p of pushes) {
      expect(p.headers["content-encoding"]).toBe("snappy");
      expect(p.headers["content-type"]).toBe("application/x-protobuf");
      expect(p.headers["x-prometheus-remote-write-version"]).toBe("0.1.0");
      expect(p.headers["user-agent"]).toMatch(/^zander-edge\/\d+\.\d+\.\d+$/);
      expect(p.headers.authorization).toBe(
        `Basic ${Buffer.from(`${USERNAME}:${PASSWORD}`).toString("base64")}`,
      );
    }
    const text = await scrapeText(dev.url, "/metrics-custom");
    // Retried with backoff inside the push while its interval (1 s here) lasts; a request still failing when
    // that time ran out is counted, at most once per 503 answered.
    expect(pushes.slice(0, FAILED_PUSHES).map((p) => p.status)).toEqual([503, 503]);
    expect(parseSamples(text).get('remote_write_requests_total{result="failure"}') ?? 0).toBeLessThanOrEqual(
      FAILED_PUSHES,
    );
    expect(parseSamples(text).get('remote_write_requests_total{result="success"}')).toBeGreaterThan(0);
  });
});
