import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import alertmanagerYml from "../../collector/alertmanager.yml?raw";
import configAlloy from "../../collector/config.alloy?raw";
import databaseWrites from "../../collector/dashboards/database-writes.json?raw";
import edgeIngestion from "../../collector/dashboards/edge-ingestion.json?raw";
import errors from "../../collector/dashboards/errors.json?raw";
import systemOverview from "../../collector/dashboards/system-overview.json?raw";
import websocketHealth from "../../collector/dashboards/websocket-health.json?raw";
import otelCollectorOtlpYaml from "../../collector/otel-collector.otlp.yaml?raw";
import otelCollectorYaml from "../../collector/otel-collector.yaml?raw";
import alertsYml from "../../collector/rules/alerts.yml?raw";
import recordingYml from "../../collector/rules/recording.yml?raw";
import runbooks from "../../docs/runbooks.md?raw";
import { SPEC_COUNTERS_AND_GAUGES, SPEC_HISTOGRAMS } from "../support/spec-metrics";
import { alloyComponents, alloyScrapeConfig, alloyValue } from "./alloy-config";
import { metricNames } from "./promql-metrics";

// Cheap guards over collector/ that need nothing but npm: every query reads only catalogue metric names (or
// recorded series built from them), and rules and dashboards carry what operators and Grafana rely on.
// The real Prometheus checks run in test/e2e/collector.e2e.test.ts and test/e2e/alerts.e2e.test.ts.

/** Grafana's reference to the dashboard's data source variable. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: a Grafana variable reference, not a JS template
const DATASOURCE_REF = "${datasource}";

/** `up` is written by the scraper (Prometheus or the collector's receiver) for the zander-edge job. */
const SCRAPE_METRICS = ["up"];

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const groupsOf = (yml: string) => (parse(yml) as { groups: { name: string; rules: Rule[] }[] }).groups;
const alertRules = groupsOf(alertsYml).flatMap((g) => g.rules);
const recordingRules = groupsOf(recordingYml).flatMap((g) => g.rules);
const recorded = recordingRules.map((r) => r.record as string);
// Beyond the contract's metric list, listed in the README's metric table: samples inside the chunk rows written,
// storage tiers, flush errors and the objects' own billed rows.
const ADDITIONAL_METRICS = [
  "db_samples_written_total",
  "storage_bytes",
  "d1_database_bytes",
  "storage_jobs_total",
  "db_flush_errors_total",
  "object_rows_written_total",
];

const known = new Set([
  ...SPEC_COUNTERS_AND_GAUGES,
  ...ADDITIONAL_METRICS,
  ...SPEC_HISTOGRAMS.flatMap((h) => [`${h}_bucket`, `${h}_sum`, `${h}_count`]),
  ...SCRAPE_METRICS,
]);

interface Panel {
  title: string;
  type: string;
  datasource?: { type: string; uid: string };
  targets?: { expr: string; datasource?: { uid: string } }[];
}
interface Dashboard {
  uid: string;
  title: string;
  templating: { list: { name: string; type: string; query?: unknown; datasource?: { uid: string } }[] };
  panels: Panel[];
}
const dashboards: Record<string, Dashboard> = Object.fromEntries(
  Object.entries({ databaseWrites, edgeIngestion, errors, systemOverview, websocketHealth }).map(([k, v]) => [
    k,
    JSON.parse(v) as Dashboard,
  ]),
);

describe("metric names", () => {
  it("the PromQL parser helper finds metric names and nothing else", () => {
    expect(
      metricNames(
        'histogram_quantile(0.95, sum by (route, le) (rate(http_request_duration_seconds_bucket{route=~"/v1.*"}[$__rate_interval]))) > 1 and up{job="x"} == 0',
      ),
    ).toEqual(["http_request_duration_seconds_bucket", "up"]);
  });

  it.each(recordingRules.map((r) => [r.record, r.expr]))(
    "recording rule %s reads catalogue metrics only",
    (_n, expr) => {
      expect(metricNames(expr).filter((m) => !known.has(m))).toEqual([]);
    },
  );

  it.each(alertRules.map((r) => [r.alert, r.expr]))("alert %s reads catalogue metrics only", (_n, expr) => {
    expect(metricNames(expr).filter((m) => !known.has(m))).toEqual([]);
  });

  it.each(Object.entries(dashboards))(
    "dashboard %s reads catalogue metrics or recorded series only",
    (_n, d) => {
      const queries = d.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
      expect(queries.length).toBeGreaterThan(0);
      const unknown = queries.flatMap(metricNames).filter((m) => !known.has(m) && !recorded.includes(m));
      expect(unknown).toEqual([]);
    },
  );

  it("recording rules follow level:metric:operation and are all used by a dashboard", () => {
    const allQueries = Object.values(dashboards)
      .flatMap((d) => d.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)))
      .join("\n");
    for (const name of recorded) {
      expect(name).toMatch(/^[a-z_]*:[a-z_]+:[a-z0-9_]+$/);
      expect(allQueries, `${name} is used`).toContain(name);
    }
  });
});

describe("alert rules", () => {
  it.each(alertRules.map((r) => [r.alert, r]))(
    "%s has severity, service and a runbook in docs/",
    (name, rule) => {
      const r = rule as Rule;
      expect(["critical", "warning", "info"]).toContain(r.labels?.severity);
      expect(r.labels?.service).toBe("zander-edge");
      expect(r.annotations?.summary).toBeTruthy();
      expect(r.annotations?.description).toContain("{{ $value");
      const anchor = String(name).toLowerCase();
      expect(r.annotations?.runbook_url).toBe(
        `https://github.com/zander-edge/zander-edge/blob/main/docs/runbooks.md#${anchor}`,
      );
      expect(runbooks).toContain(`\n## ${name}\n`);
      expect(runbooks).toContain(`[${name}](#${anchor})`);
    },
  );
});

describe("dashboards", () => {
  it("have unique stable uids", () => {
    const uids = Object.values(dashboards).map((d) => d.uid);
    expect(new Set(uids).size).toBe(uids.length);
    for (const uid of uids) expect(uid).toMatch(/^zander-edge-[a-z-]+$/);
  });

  it.each(Object.entries(dashboards))("%s picks its data source through the datasource variable", (_n, d) => {
    expect(d.templating.list[0]).toMatchObject({
      name: "datasource",
      type: "datasource",
      query: "prometheus",
    });
    for (const panel of d.panels) {
      expect(panel.datasource, panel.title).toEqual({ type: "prometheus", uid: DATASOURCE_REF });
      for (const t of panel.targets ?? []) expect(t.datasource?.uid, panel.title).toBe(DATASOURCE_REF);
    }
    for (const v of d.templating.list.filter((x) => x.type === "query"))
      expect(v.datasource?.uid).toBe(DATASOURCE_REF);
  });
});

describe("alertmanager.yml", () => {
  it("reads every receiver secret from a file", () => {
    const config = parse(alertmanagerYml) as { receivers: Record<string, unknown>[] };
    const integrations = config.receivers.flatMap((r) =>
      Object.entries(r)
        .filter(([key]) => key.endsWith("_configs"))
        .flatMap(([, list]) => list as Record<string, unknown>[]),
    );
    const keys = integrations.flatMap((i) => Object.keys(i));
    expect(keys).toEqual(expect.arrayContaining(["routing_key_file", "api_url_file"]));
    for (const secret of ["api_url", "routing_key", "service_key", "url", "http_config"])
      expect(keys).not.toContain(secret);
  });
});

/** The collector's env reference `${env:NAME}` (escaped: it is not a JS template). */
const envRef = (name: string) => `$\{env:${name}}`;

interface CollectorConfig {
  receivers: Record<string, unknown>;
  processors?: Record<string, unknown>;
  extensions: Record<string, { client_auth?: Record<string, string> }>;
  exporters: Record<string, Record<string, unknown>>;
  service: { extensions: string[]; pipelines: Record<string, Record<string, string[]>> };
}

/**
 * Component types of otelcol-contrib these files may use, with the first minor release that accepts the name
 * (0: all releases since v0.100). From the contrib changelog: the lower snake case renames of
 * open-telemetry/opentelemetry-collector-contrib#45339 (`otlphttp` became `otlp_http` in v0.144.0,
 * `prometheusremotewrite` became `prometheus_remote_write` in v0.154.0, the old names kept as deprecated aliases).
 */
const CONTRIB_TYPES: Record<string, number> = {
  prometheus: 0,
  memory_limiter: 0,
  health_check: 0,
  basicauth: 0,
  otlp_http: 144,
  prometheus_remote_write: 154,
};

describe.each([
  ["otel-collector.yaml", otelCollectorYaml, "prometheus_remote_write", "PROMETHEUS_REMOTE_WRITE"],
  ["otel-collector.otlp.yaml", otelCollectorOtlpYaml, "otlp_http/grafana_cloud", "OTLP"],
])("collector/%s", (_file, yaml, exporterName, destination) => {
  const config = parse(yaml) as CollectorConfig;
  const exporter = config.exporters[exporterName] as Record<string, unknown>;

  it("uses current component names, and every component it names is defined", () => {
    expect(yaml).not.toMatch(/prometheusremotewrite|otlphttp/);
    const pipeline = config.service.pipelines.metrics as Record<string, string[]>;
    expect(pipeline.processors).toEqual(["memory_limiter"]);
    expect(config.processors).toHaveProperty(["memory_limiter"]);
    expect(pipeline.exporters).toEqual([exporterName]);
    for (const r of pipeline.receivers ?? []) expect(config.receivers).toHaveProperty([r]);
    for (const e of config.service.extensions) expect(config.extensions).toHaveProperty([e]);
    expect(exporter.auth).toEqual({ authenticator: "basicauth/grafana_cloud" });
  });

  it("names only components of the otelcol-contrib version its header asks for", () => {
    const version = Number(/Needs otelcol-contrib v0\.(\d+)\.0 or later/.exec(yaml)?.[1]);
    expect(version).toBeGreaterThan(0);
    const sections = [config.receivers, config.processors ?? {}, config.exporters, config.extensions];
    for (const id of sections.flatMap((section) => Object.keys(section))) {
      const type = id.split("/")[0] as string;
      expect(CONTRIB_TYPES, `component type ${type}`).toHaveProperty([type]);
      expect(CONTRIB_TYPES[type], `${type} needs v0.${CONTRIB_TYPES[type]}.0`).toBeLessThanOrEqual(version);
    }
  });

  it("keeps resource attributes off the series (job and instance still come from the scrape)", () => {
    expect(yaml).not.toContain("resource_to_telemetry_conversion");
  });

  it("queues and batches in the exporter the way it supports", () => {
    if (exporterName.startsWith("otlp_http")) {
      expect(exporter.sending_queue).toMatchObject({ enabled: true, batch: { flush_timeout: "5s" } });
      expect(exporter.compression).toBe("gzip");
    } else {
      // prometheus_remote_write has its own queue and refuses `sending_queue`.
      expect(exporter.sending_queue).toBeUndefined();
      expect(exporter.remote_write_queue).toMatchObject({ enabled: true });
    }
  });

  it("takes every URL and credential from the environment", () => {
    const auth = config.extensions["basicauth/grafana_cloud"]?.client_auth;
    if (destination === "OTLP") {
      expect(exporter.endpoint).toBe(envRef("OTEL_EXPORTER_OTLP_ENDPOINT"));
      expect(auth).toEqual({
        username: envRef("GRAFANA_CLOUD_INSTANCE_ID"),
        password: envRef("GRAFANA_CLOUD_API_TOKEN"),
      });
    } else {
      expect(exporter.endpoint).toBe(envRef("PROMETHEUS_REMOTE_WRITE_URL"));
      expect(auth).toEqual({
        username: envRef("PROMETHEUS_REMOTE_WRITE_USERNAME"),
        password: envRef("PROMETHEUS_REMOTE_WRITE_PASSWORD"),
      });
    }
    // No URL, host or token in any value (comments may show examples).
    expect(JSON.stringify(config)).not.toMatch(/https?:\/\/|grafana\.net|workers\.dev|glc_/);
  });
});

describe("collector/config.alloy", () => {
  const components = alloyComponents(configAlloy);
  const scrape = components.get("prometheus.scrape.zander_edge");
  const remoteWrite = components.get("prometheus.remote_write.grafana_cloud");

  it("scrapes like the otelcol variants and forwards to the remote-write component", () => {
    expect([...components.keys()].sort()).toEqual([
      "prometheus.remote_write.grafana_cloud",
      "prometheus.scrape.zander_edge",
    ]);
    const otelcolScrape = (
      parse(otelCollectorYaml) as {
        receivers: { prometheus: { config: { scrape_configs: Record<string, unknown>[] } } };
      }
    ).receivers.prometheus.config.scrape_configs[0] as Record<string, unknown>;
    const alloy = alloyScrapeConfig(scrape as NonNullable<typeof scrape>);
    for (const key of [
      "job_name",
      "scrape_interval",
      "scrape_timeout",
      "scheme",
      "metrics_path",
      "authorization",
    ])
      expect(alloy[key], key).toEqual(otelcolScrape[key]);
    expect(alloy.static_configs).toEqual([
      { targets: [envRef("ZANDER_EDGE_HOST")], labels: { instance: envRef("ZANDER_EDGE_HOST") } },
    ]);
    expect(scrape?.attributes.forward_to).toBe("[prometheus.remote_write.grafana_cloud.receiver]");
  });

  it("takes every URL and credential from the environment", () => {
    const endpoint = remoteWrite?.blocks.endpoint;
    expect(alloyValue(endpoint?.attributes.url ?? "")).toBe(envRef("PROMETHEUS_REMOTE_WRITE_URL"));
    const basic = endpoint?.blocks.basic_auth?.attributes ?? {};
    expect(alloyValue(basic.username ?? "")).toBe(envRef("PROMETHEUS_REMOTE_WRITE_USERNAME"));
    expect(alloyValue(basic.password ?? "")).toBe(envRef("PROMETHEUS_REMOTE_WRITE_PASSWORD"));
    const code = configAlloy.replace(/^\s*\/\/.*$/gm, "");
    expect(code).not.toMatch(/https?:\/\/|grafana\.net|workers\.dev|glc_/);
  });
});
