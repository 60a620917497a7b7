import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { mintToken } from "../../tools/lib/token.ts";
import { startWranglerDev, type WranglerDev } from "../../tools/lib/wrangler-dev.ts";
import { LOCAL_WRANGLER_ENV } from "../../tools/local-dev-env.mjs";
import { alertmanagerTestConfig, startAlertmanager } from "./support/alertmanager";
import type { Daemon } from "./support/daemon";
import { labelValuesQueries, panelQueries } from "./support/dashboard-queries";
import { writeFastRules } from "./support/fast-rules";
import {
  collectorScrapeConfigs,
  type Prometheus,
  prometheusConfig,
  startPrometheus,
} from "./support/prometheus";
import { type RecordingServer, startRecordingServer } from "./support/recording-server";
import { RelaySocket } from "./support/relay-socket";
import { waitUntil } from "./support/wait-until";
import { sendProtocolViolation } from "./support/websocket-protocol-error";

// The shipped alert rules, end to end: wrangler dev serves /metrics, a real Prometheus scrapes it with the
// collector's scrape block and evaluates the rules (time-compressed 60x: minutes become seconds), a real
// Alertmanager routes with collector/alertmanager.yml, and its receivers are webhooks on a local server.
// Each fault is induced for real and the right alert must reach the right receiver; healthy traffic must
// notify nobody. Also checks that every dashboard query returns data from that Prometheus.
const WRANGLER_PORT = 18811;
const PROMETHEUS_PORT = 19090;
const ALERTMANAGER_PORT = 19093;
const WEBHOOK_PORT = 19096;
const AUTH_SECRET = "e2e-alerts-auth-secret-0123456789abcdef";
const METRICS_TOKEN = "e2e-alerts-metrics-token";
const BUFFER_CAPACITY = 200;
const RUNBOOKS = "https://github.com/zander-edge/zander-edge/blob/main/docs/runbooks.md";
const run = promisify(execFile);

interface Notified {
  receiver: string;
  status: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

let dir: string;
let dev: WranglerDev | undefined;
let baseUrl: string;
let persistDir: string;
let webhook: RecordingServer;
let alertmanager: Daemon;
let prometheus: Prometheus;
let ruleFiles: string[];
let prometheusConfigWithRules: (ruleFiles: string[]) => string;
const sockets: RelaySocket[] = [];
let load: { stop(): Promise<void> } | undefined;

/** Every alert Alertmanager sent to a receiver so far, with the receiver named by the webhook path. */
function notified(): Notified[] {
  return webhook.requests.flatMap((r) =>
    (JSON.parse(r.body) as { alerts: Omit<Notified, "receiver">[] }).alerts.map((a) => ({
      receiver: r.url.slice(1),
      status: a.status,
      labels: a.labels,
      annotations: a.annotations,
    })),
  );
}

async function waitForFiring(alertname: string, receiver: string, timeoutMs = 60_000): Promise<Notified> {
  const request = await webhook.waitFor(
    (r) =>
      r.url === `/${receiver}` &&
      (JSON.parse(r.body) as { alerts: Notified[] }).alerts.some(
        (a) => a.labels.alertname === alertname && a.status === "firing",
      ),
    timeoutMs,
  );
  const alerts = (JSON.parse(request.body) as { alerts: Notified[] }).alerts;
  return { ...(alerts.find((a) => a.labels.alertname === alertname) as Notified), receiver };
}

/** Healthy traffic: one relay frame every 200 ms, until stopped; stop() rethrows what went wrong. */
function startLoad(relay: RelaySocket): { stop(): Promise<void> } {
  let running = true;
  const loop = (async () => {
    while (running) {
      await relay.sendSamples(1);
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  // Surfaced by stop(); without this handler a failure would be an unhandled rejection until then.
  loop.catch(() => {});
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Names of the rule groups in the (time-compressed) rule files. */
function ruleGroupNames(): string[] {
  return ruleFiles.flatMap((f) =>
    (parse(readFileSync(f, "utf8")) as { groups: { name: string }[] }).groups.map((g) => g.name),
  );
}

/** Loads the rule files into the running Prometheus and waits for an evaluation of every group. */
async function loadRules(): Promise<void> {
  const loadedAt = Date.now();
  await prometheus.reload(prometheusConfigWithRules(ruleFiles));
  await prometheus.waitForRuleEvaluation(ruleGroupNames(), loadedAt);
}

/** The receivers Alertmanager routes the active `alertname` alerts to, as its API reports them. */
async function alertmanagerReceivers(alertname: string): Promise<string[]> {
  const res = await fetch(
    `http://127.0.0.1:${ALERTMANAGER_PORT}/api/v2/alerts?filter=${encodeURIComponent(`alertname="${alertname}"`)}`,
  );
  const alerts = (await res.json()) as { receivers: { name: string }[] }[];
  return [...new Set(alerts.flatMap((a) => a.receivers.map((r) => r.name)))].sort();
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "zander-alerts-"));
  dev = await startWranglerDev({
    port: WRANGLER_PORT,
    args: ["--test-scheduled"], // the storage panels need a run of the cron's tier job
    // A small buffer fills fast; it must hold at least two full frames (README, "Configuration").
    vars: {
      AUTH_SECRET,
      METRICS_TOKEN,
      BUFFER_CAPACITY: String(BUFFER_CAPACITY),
      MAX_SAMPLES_PER_FRAME: String(BUFFER_CAPACITY / 2),
    },
  });
  baseUrl = dev.url;
  persistDir = dev.persistTo;

  webhook = await startRecordingServer(WEBHOOK_PORT);
  mkdirSync(join(dir, "am"));
  alertmanager = await startAlertmanager(
    ALERTMANAGER_PORT,
    alertmanagerTestConfig(webhook.url),
    join(dir, "am"),
  );

  mkdirSync(join(dir, "rules"));
  ruleFiles = writeFastRules(
    ["collector/rules/alerts.yml", "collector/rules/recording.yml"],
    join(dir, "rules"),
  );
  // The collector's own scrape block; only the scheme differs (wrangler dev speaks plain HTTP).
  const scrapeConfigs = collectorScrapeConfigs({
    ZANDER_EDGE_HOST: `127.0.0.1:${WRANGLER_PORT}`,
    METRICS_TOKEN,
  }).map((c) => ({ ...c, scheme: "http" }));
  // Prometheus starts without rules: they are loaded (loadRules) once the scrape works and traffic is flowing,
  // so that the startup (no scrape yet, no relay yet) cannot fire MetricsMissing or NoConnections.
  prometheusConfigWithRules = (files) =>
    prometheusConfig({
      scrapeConfigs,
      ruleFiles: files,
      alertmanagerTarget: `127.0.0.1:${ALERTMANAGER_PORT}`,
      interval: "1s",
    });
  prometheus = await startPrometheus(PROMETHEUS_PORT, prometheusConfigWithRules([]), dir);
  await prometheus.waitForScrapesUp();
}, 120_000);

afterAll(async () => {
  await load?.stop().catch(() => {});
  for (const s of sockets) await s.close().catch(() => {});
  await prometheus?.stop();
  await alertmanager?.stop();
  await webhook?.close();
  await dev?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("alerts end to end", () => {
  it("scrapes /metrics with the token and notifies nobody while traffic is healthy", async () => {
    const relay = await RelaySocket.open({ baseUrl, secret: AUTH_SECRET, userId: "healthy" });
    const consumer = await RelaySocket.open({
      baseUrl,
      secret: AUTH_SECRET,
      userId: "healthy",
      role: "consumer",
    });
    sockets.push(relay, consumer);
    load = startLoad(relay);
    // Healthy means: scraped, and the relay's connection has reached /metrics. Only then do the rules start.
    await waitUntil("Prometheus to see the relay connected", async () => {
      const [connected] = await prometheus.query("sum(edge_relay_connections)");
      return connected?.value[1] === "1" ? true : undefined;
    });
    await loadRules();
    // Proving that nothing fires takes a window of healthy evaluations longer than every compressed `for`
    // (NoConnections: 10s) plus the 5s rate windows. The window is counted in Prometheus's own rule
    // evaluations, so a slow machine lengthens it instead of shortening what was checked.
    const windowEnd = Date.now() + 20_000;
    await prometheus.waitForRuleEvaluation(ruleGroupNames(), windowEnd, 60_000);
    expect(await prometheus.query('up{job="zander-edge"}')).toMatchObject([
      { value: [expect.any(Number), "1"] },
    ]);
    expect(await prometheus.query("sum(edge_relay_connections)")).toMatchObject([
      { value: [expect.any(Number), "1"] },
    ]);
    expect(await prometheus.query('ALERTS{alertstate="firing"}')).toEqual([]);
    expect(notified()).toEqual([]);
  });

  it("HighErrorRate pages and posts to chat when relays send bad frames", async () => {
    const relay = sockets[0] as RelaySocket;
    for (let i = 0; i < 40; i++) {
      relay.sendRaw("this is not JSON");
      await sleep(250); // pacing: a bad frame every 250 ms until the alert is out
      if (notified().some((n) => n.labels.alertname === "HighErrorRate")) break;
    }
    const paged = await waitForFiring("HighErrorRate", "pager");
    expect(paged.labels).toEqual({
      alertname: "HighErrorRate",
      severity: "critical",
      service: "zander-edge",
    });
    expect(paged.annotations.summary).toBe("More than 5% of received frames fail");
    expect(paged.annotations.description).toMatch(
      /^\d+(\.\d+)?% of received frames were answered with an error frame over the last 5 minutes \(threshold 5%\)\.$/,
    );
    expect(paged.annotations.runbook_url).toBe(`${RUNBOOKS}#higherrorrate`);
    await waitForFiring("HighErrorRate", "chat");
    expect(relay.replies).toContainEqual(expect.objectContaining({ type: "error", code: "invalid" }));
  });

  it("every dashboard panel query returns data after simulated load", async () => {
    // Events the healthy loop does not produce: a relay reconnection, an ended session, an HTTP ingest,
    // an unauthenticated request and a WebSocket protocol error.
    // Relay r1 again on a second socket, numbering on far past the loop's frames.
    const again = await RelaySocket.open({
      baseUrl,
      secret: AUTH_SECRET,
      userId: "healthy",
      firstSeq: 1_000_000,
    });
    sockets.push(again);
    expect(await again.sendSamples(1, "s2")).toMatchObject({ type: "ack" });
    again.sendRaw(JSON.stringify({ type: "session_end", session_id: "s2" }));
    expect(
      await fetch(`${baseUrl}/v1/users/healthy/samples`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${await mintToken({ secret: AUTH_SECRET, userId: "healthy", role: "relay" })}`,
        },
        body: JSON.stringify({
          type: "samples",
          relay_id: "http-relay",
          session_id: "s3",
          seq: 1,
          samples: [{ t: Date.now(), ch: "hr", v: 1 }],
        }),
      }).then((r) => r.json()),
    ).toEqual({ type: "ack", seq: 1 });
    await sendProtocolViolation(baseUrl, AUTH_SECRET, "healthy");
    expect((await fetch(`${baseUrl}/v1/relay?user_id=healthy`)).status).toBe(401);
    // The cron's tier job: storage_bytes and storage_jobs_total.
    expect((await fetch(`${baseUrl}/__scheduled?cron=*+*+*+*+*`)).status).toBe(200);

    // The events reach Prometheus on the objects' next metrics delivery and scrape: wait until every panel
    // answers, and name the panels that never did.
    const queries = panelQueries("5s");
    expect(queries.length).toBeGreaterThan(30);
    let empty: string[] = [];
    await waitUntil(
      "every dashboard panel query to return data",
      async () => {
        empty = [];
        for (const q of queries) {
          if ((await prometheus.query(q.expr)).length === 0)
            empty.push(`${q.dashboard} / ${q.panel}: ${q.expr}`);
        }
        return empty.length === 0 ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 1_000 },
    ).catch(() => {});
    expect(empty).toEqual([]);

    for (const v of labelValuesQueries()) {
      const res = await fetch(
        `${prometheus.url}/api/v1/label/${v.label}/values?match[]=${encodeURIComponent(v.metric)}`,
      );
      expect(((await res.json()) as { data: string[] }).data, `${v.dashboard} $${v.variable}`).toContain(
        "healthy",
      );
    }
  });

  it("NoConnections posts to chat, and pages nobody, once every relay is gone", async () => {
    await load?.stop();
    load = undefined;
    for (const s of sockets.splice(0)) await s.close();
    expect(await prometheus.query('ALERTS{alertname="NoConnections"}')).toEqual([]);
    // A closed socket reaches the gauges when its object next reports (at the latest its 60 s refresh, README
    // "Metrics"), then the compressed `for` (10 s) runs: allow both.
    const chat = await waitForFiring("NoConnections", "chat", 40_000);
    expect(chat.labels).toEqual({ alertname: "NoConnections", severity: "warning", service: "zander-edge" });
    expect(chat.annotations.runbook_url).toBe(`${RUNBOOKS}#noconnections`);
    // Alertmanager's own routing decision for the active alert: chat only, so no page can follow.
    expect(await alertmanagerReceivers("NoConnections")).toEqual(["chat"]);
    expect(
      notified()
        .filter((n) => n.labels.alertname === "NoConnections")
        .map((n) => n.receiver),
    ).not.toContain("pager");
  }, 150_000);

  it("BufferFull names the user whose buffer fills while D1 writes fail", async () => {
    // The fault: D1 loses the sample_chunks table, so every flush fails and buffers only grow.
    await run(
      join("node_modules", ".bin", "wrangler"),
      [
        "d1",
        "execute",
        "DB",
        "--local",
        "--persist-to",
        persistDir,
        "--command",
        "ALTER TABLE sample_chunks RENAME TO sample_chunks_gone",
      ],
      { env: { ...process.env, ...LOCAL_WRANGLER_ENV, CI: "true" } },
    );
    const flood = await RelaySocket.open({ baseUrl, secret: AUTH_SECRET, userId: "flood" });
    sockets.push(flood);
    let reply = await flood.sendSamples(50);
    for (let i = 0; i < BUFFER_CAPACITY / 50 && reply.type === "ack"; i++)
      reply = await flood.sendSamples(50);
    expect(reply).toMatchObject({ type: "error", code: "buffer_full" });

    const paged = await waitForFiring("BufferFull", "pager");
    expect(paged.labels).toEqual({
      alertname: "BufferFull",
      severity: "critical",
      service: "zander-edge",
      user_id: "flood",
    });
    expect(paged.annotations.summary).toBe("Sample buffer of user flood is over 95% full");
    expect(paged.annotations.runbook_url).toBe(`${RUNBOOKS}#bufferfull`);
    await waitForFiring("BufferFull", "chat");
  });

  it("ServiceDown and MetricsMissing page when the Worker stops answering", async () => {
    await dev?.stop();
    dev = undefined;
    const paged = await waitForFiring("ServiceDown", "pager");
    expect(paged.labels).toEqual({
      alertname: "ServiceDown",
      severity: "critical",
      service: "zander-edge",
      job: "zander-edge",
      instance: "127.0.0.1",
    });
    expect(paged.annotations.summary).toBe("Zander Edge /metrics cannot be scraped (127.0.0.1)");
    expect(paged.annotations.runbook_url).toBe(`${RUNBOOKS}#servicedown`);
    // The failed scrape marks every series stale: what the Worker's own push would look like when it stops.
    const missing = await waitForFiring("MetricsMissing", "pager");
    expect(missing.labels).toEqual({
      alertname: "MetricsMissing",
      severity: "critical",
      service: "zander-edge",
    });
  });
});
