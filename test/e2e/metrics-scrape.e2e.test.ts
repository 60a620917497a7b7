import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { startWranglerDev, type WranglerDev } from "../../tools/lib/wrangler-dev.ts";
import {
  type Client,
  driveTraffic,
  E2E_AUTH_SECRET,
  E2E_METRICS_TOKEN,
  SPEC_METRIC_NAMES,
  scrapeText,
  settledScrape,
} from "./support/metrics-traffic";
import { type Prometheus, startPrometheus } from "./support/prometheus";

const WRANGLER_PORT = 18800;
const PROMETHEUS_PORT = 19100;

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await fn();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ""}`);
}

describe("a real Prometheus scrapes /metrics of wrangler dev", () => {
  let dev: WranglerDev;
  let prometheus: Prometheus;
  let dir: string;
  let clients: { relay: Client; consumer: Client };

  beforeAll(async () => {
    dev = await startWranglerDev({
      port: WRANGLER_PORT,
      vars: { AUTH_SECRET: E2E_AUTH_SECRET, METRICS_TOKEN: E2E_METRICS_TOKEN },
    });
    clients = await driveTraffic(dev.url, "scrape-e2e-user");
    dir = mkdtempSync(join(tmpdir(), "zander-metrics-scrape-"));
    const config = stringify({
      global: { scrape_interval: "1s", scrape_timeout: "1s" },
      scrape_configs: [
        {
          job_name: "zander-edge",
          metrics_path: "/metrics",
          authorization: { type: "Bearer", credentials: E2E_METRICS_TOKEN },
          static_configs: [{ targets: [`127.0.0.1:${WRANGLER_PORT}`] }],
        },
      ],
    });
    prometheus = await startPrometheus(PROMETHEUS_PORT, config, dir);
  });

  afterAll(async () => {
    await clients?.relay.close().catch(() => {});
    await clients?.consumer.close().catch(() => {});
    await prometheus?.stop();
    await dev?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("passes promtool's exposition-format check", async () => {
    const text = await scrapeText(dev.url);
    const check = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
    expect(check.error).toBeUndefined();
    // Exit 0: parsed and no lint problem (names, _total, units, HELP).
    expect(`${check.stdout}${check.stderr}`.trim()).toBe("");
    expect(check.status).toBe(0);
  });

  it("answers the README's curl command", () => {
    const readme = readFileSync("README.md", "utf8");
    const section = readme.slice(readme.indexOf("## Metrics"), readme.indexOf("## Grafana Cloud"));
    const command = section.split("\n").find((line) => line.startsWith("curl "));
    // As written: the token comes from the .dev.vars that npm start created, here the test server's.
    expect(command).toContain(".dev.vars");
    writeFileSync(
      join(dir, ".dev.vars"),
      `AUTH_SECRET=${E2E_AUTH_SECRET}\nMETRICS_TOKEN=${E2E_METRICS_TOKEN}\n`,
    );
    const run = spawnSync(
      "bash",
      ["-c", (command as string).replace("127.0.0.1:8787", `127.0.0.1:${WRANGLER_PORT}`)],
      { encoding: "utf8", cwd: dir, env: { ...process.env, METRICS_TOKEN: "" } },
    );
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain("# TYPE messages_received_total counter");
  });

  it("has the target up and every catalogue metric name, named exactly as the catalogue", async () => {
    await waitFor("target up", async () =>
      (await prometheus.query('up{job="zander-edge"} == 1')).length === 1 ? true : undefined,
    );
    await settledScrape(dev.url, 'messages_received_total{message_type="samples",user_id="scrape-e2e-user"}');
    const names = await waitFor("every catalogue name in Prometheus", async () => {
      const result = await prometheus.query('count by (__name__) ({job="zander-edge"})');
      const seen = new Set(result.map((r) => r.metric.__name__));
      const families = new Set(
        [...seen].map((n) => n?.replace(/_(bucket|sum|count)$/, "")).filter((n): n is string => !!n),
      );
      // ws_errors_total counts socket errors, which a clean run has none of: its family must still be exposed.
      const missing = SPEC_METRIC_NAMES.filter(
        (n) => n !== "ws_errors_total" && !families.has(n) && !seen.has(n),
      );
      return missing.length === 0 ? seen : undefined;
    });
    expect(names.has("messages_received_total")).toBe(true);
    const metadata = (await (await fetch(`${prometheus.url}/api/v1/metadata`)).json()) as {
      data: Record<string, { type: string }[]>;
    };
    for (const name of SPEC_METRIC_NAMES) {
      expect(metadata.data[name]?.[0]?.type, name).toBeDefined();
    }
    // No unit suffixes or doubled _total anywhere.
    for (const name of names) expect(name).not.toMatch(/_total_total|_seconds_seconds|_bytes_bytes/);
  });
});
