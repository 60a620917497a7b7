import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { alloyComponents, alloyScrapeConfig } from "../../collector/alloy-config";
import { type Daemon, startDaemon } from "./daemon";
import { waitUntil } from "./wait-until";

export const COLLECTOR_CONFIG = "collector/otel-collector.yaml";
/** Every otelcol-contrib variant: remote-write (the default) and OTLP to Grafana Cloud's gateway. */
export const COLLECTOR_CONFIGS = [COLLECTOR_CONFIG, "collector/otel-collector.otlp.yaml"];
export const ALLOY_CONFIG = "collector/config.alloy";

/**
 * The scrape configs of a collector config's prometheus receiver (or of config.alloy's prometheus.scrape), as
 * the collector hands them to its embedded Prometheus: `${env:VAR}` expanded from `env` (a missing one throws),
 * then `$$` unescaped to `$`.
 */
export function collectorScrapeConfigs(
  env: Record<string, string>,
  file = COLLECTOR_CONFIG,
): Record<string, unknown>[] {
  const expand = (text: string) =>
    text
      .replace(/\$\{env:([A-Za-z0-9_]+)\}/g, (_all, name: string) => {
        const value = env[name];
        if (value === undefined) throw new Error(`${file} uses \${env:${name}}, which the test did not set`);
        return value;
      })
      .replaceAll("$$", "$");
  const walk = (v: unknown): unknown =>
    typeof v === "string"
      ? expand(v)
      : Array.isArray(v)
        ? v.map(walk)
        : v && typeof v === "object"
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]))
          : v;
  if (file === ALLOY_CONFIG) {
    const scrape = alloyComponents(readFileSync(file, "utf8")).get("prometheus.scrape.zander_edge");
    if (!scrape) throw new Error(`${file} has no prometheus.scrape "zander_edge"`);
    return [walk(alloyScrapeConfig(scrape)) as Record<string, unknown>];
  }
  const config = parse(readFileSync(file, "utf8")) as {
    receivers: { prometheus: { config: { scrape_configs: unknown[] } } };
  };
  return walk(config.receivers.prometheus.config.scrape_configs) as Record<string, unknown>[];
}

export interface PrometheusConfigOptions {
  scrapeConfigs: Record<string, unknown>[];
  ruleFiles: string[];
  alertmanagerTarget?: string;
  /** Scrape and evaluation interval, e.g. "1s" in end-to-end runs. */
  interval: string;
}

export function prometheusConfig(options: PrometheusConfigOptions): string {
  return stringify({
    global: { scrape_interval: options.interval, evaluation_interval: options.interval },
    rule_files: options.ruleFiles,
    ...(options.alertmanagerTarget
      ? { alerting: { alertmanagers: [{ static_configs: [{ targets: [options.alertmanagerTarget] }] }] } }
      : {}),
    scrape_configs: options.scrapeConfigs.map((c) => ({
      ...c,
      scrape_interval: options.interval,
      scrape_timeout: options.interval,
    })),
  });
}

export interface ScrapeTarget {
  scrapeUrl: string;
  labels: Record<string, string>;
  health: "up" | "down" | "unknown";
  /** RFC 3339; "0001-01-01T00:00:00Z" until the first scrape. */
  lastScrape: string;
  lastError: string;
}

export interface RuleGroup {
  name: string;
  /** RFC 3339; "0001-01-01T00:00:00Z" until the group's first evaluation. */
  lastEvaluation: string;
}

export interface Prometheus extends Daemon {
  url: string;
  /** Instant query; returns the result vector. */
  query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  targets(): Promise<ScrapeTarget[]>;
  ruleGroups(): Promise<RuleGroup[]>;
  /** Writes a new config and makes Prometheus load it (POST /-/reload); resolves once it answered. */
  reload(configYaml: string): Promise<void>;
  /** Waits until every scrape target is up after a completed scrape; returns them. */
  waitForScrapesUp(timeoutMs?: number): Promise<ScrapeTarget[]>;
  /** Waits until each of `groups` has been evaluated at or after `sinceMs` (epoch ms). */
  waitForRuleEvaluation(groups: string[], sinceMs: number, timeoutMs?: number): Promise<void>;
}

/** Starts a real Prometheus on 127.0.0.1:port with `configYaml`, its data in `dir`. */
export async function startPrometheus(port: number, configYaml: string, dir: string): Promise<Prometheus> {
  const configFile = join(dir, "prometheus.yml");
  writeFileSync(configFile, configYaml);
  const url = `http://127.0.0.1:${port}`;
  const daemon = await startDaemon(
    "prometheus",
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      // Alerts reach Alertmanager a second after they fire, not a minute later.
      "--rules.alert.resend-delay=1s",
      // POST /-/reload, so that a test can load its rules once the scrape works.
      "--web.enable-lifecycle",
    ],
    `${url}/-/ready`,
  );
  const query = async (expr: string) => {
    const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as { status: string; error?: string; data: { result: unknown } };
    if (body.status !== "success") throw new Error(`query ${expr} failed: ${body.error}`);
    return body.data.result as { metric: Record<string, string>; value: [number, string] }[];
  };
  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${url}${path}`);
    const body = (await res.json()) as { status: string; error?: string; data: T };
    if (body.status !== "success") throw new Error(`${path} failed: ${body.error}`);
    return body.data;
  };
  const targets = async () => (await api<{ activeTargets: ScrapeTarget[] }>("/api/v1/targets")).activeTargets;
  const ruleGroups = async () => (await api<{ groups: RuleGroup[] }>("/api/v1/rules")).groups;
  const reload = async (yaml: string) => {
    writeFileSync(configFile, yaml);
    const res = await fetch(`${url}/-/reload`, { method: "POST" });
    if (!res.ok) throw new Error(`reload failed: ${res.status} ${await res.text()}`);
  };
  const waitForScrapesUp = (timeoutMs = 60_000) =>
    waitUntil(
      "every scrape target up after a completed scrape",
      async () => {
        const all = await targets();
        const done = all.length > 0 && all.every((t) => t.health === "up" && Date.parse(t.lastScrape) > 0);
        if (!done) throw new Error(`targets: ${JSON.stringify(all)}`);
        return all;
      },
      { timeoutMs },
    );
  const waitForRuleEvaluation = async (groups: string[], sinceMs: number, timeoutMs = 60_000) => {
    await waitUntil(
      `an evaluation of rule groups ${groups.join(", ")} after ${new Date(sinceMs).toISOString()}`,
      async () => {
        const loaded = await ruleGroups();
        const late = groups.filter((name) => {
          const group = loaded.find((g) => g.name === name);
          return !group || Date.parse(group.lastEvaluation) < sinceMs;
        });
        if (late.length > 0) throw new Error(`not evaluated yet: ${late.join(", ")}`);
        return true;
      },
      { timeoutMs },
    );
  };
  return { ...daemon, url, query, targets, ruleGroups, reload, waitForScrapesUp, waitForRuleEvaluation };
}
