import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ALERTMANAGER_CONFIG, alertmanagerTestConfig, startAlertmanager } from "./support/alertmanager";
import { type Daemon, startDaemon } from "./support/daemon";
import { writeFastRules } from "./support/fast-rules";
import {
  ALLOY_CONFIG,
  COLLECTOR_CONFIGS,
  collectorScrapeConfigs,
  prometheusConfig,
} from "./support/prometheus";
import { type RecordingServer, startRecordingServer } from "./support/recording-server";

// Static checks of collector/ with the real Prometheus tools: rule syntax and unit tests, the Alertmanager
// config and its routing tree, and the Prometheus configs derived from the collector's scrape block.
const exec = promisify(execFile);
const RULE_FILES = ["collector/rules/alerts.yml", "collector/rules/recording.yml"];

async function tool(command: string, args: string[]) {
  try {
    const { stdout, stderr } = await exec(command, args);
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: e.stdout + e.stderr };
  }
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "zander-collector-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("alert and recording rules", () => {
  it("pass promtool check rules", async () => {
    const result = await tool("promtool", ["check", "rules", ...RULE_FILES]);
    expect(result.output).toContain("SUCCESS: 13 rules found");
    expect(result.code).toBe(0);
  });

  it("pass their promtool unit tests", async () => {
    const tests = readdirSync("collector/tests").map((f) => join("collector/tests", f));
    const result = await tool("promtool", ["test", "rules", ...tests]);
    expect(result.output).not.toContain("FAILED");
    expect(result.code).toBe(0);
  });

  it("are unit-tested at the default 60 s scrape and evaluation interval, so every `for:` holds at 60 s", () => {
    for (const f of readdirSync("collector/tests")) {
      const tests = parse(readFileSync(join("collector/tests", f), "utf8")) as {
        evaluation_interval: string;
        tests: { interval: string }[];
      };
      expect(tests.evaluation_interval, f).toBe("1m");
      expect(new Set(tests.tests.map((t) => t.interval)), f).toEqual(new Set(["1m"]));
    }
  });

  it("have a unit test that fires and one that stays silent for every alert", () => {
    const alerts = parse(readFileSync(RULE_FILES[0] as string, "utf8")).groups.flatMap(
      (g: { rules: { alert?: string }[] }) => g.rules.map((r) => r.alert),
    );
    const tests = parse(readFileSync("collector/tests/alerts.test.yml", "utf8")).tests.flatMap(
      (t: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }) => t.alert_rule_test,
    );
    for (const alert of alerts) {
      const cases = tests.filter((c: { alertname: string }) => c.alertname === alert);
      expect(
        cases.some((c: { exp_alerts: unknown[] }) => c.exp_alerts.length > 0),
        `${alert} fires`,
      ).toBe(true);
      expect(
        cases.some((c: { exp_alerts: unknown[] }) => c.exp_alerts.length === 0),
        `${alert} silent`,
      ).toBe(true);
    }
  });

  it("stay valid when time-compressed for the end-to-end run", async () => {
    const fastDir = join(dir, "fast-rules");
    mkdirSync(fastDir);
    const fast = writeFastRules(RULE_FILES, fastDir);
    const result = await tool("promtool", ["check", "rules", ...fast]);
    expect(result.code, result.output).toBe(0);
  });
});

describe.each([...COLLECTOR_CONFIGS, ALLOY_CONFIG])("%s", (file) => {
  it("has a scrape block that passes promtool check config, with the env placeholders filled", async () => {
    const scrapeConfigs = collectorScrapeConfigs(
      { ZANDER_EDGE_HOST: "zander-edge.example.workers.dev", METRICS_TOKEN: "placeholder-token" },
      file,
    );
    expect(scrapeConfigs).toMatchObject([
      {
        job_name: "zander-edge",
        // Cost-aware default: one data point per series per minute (README, "Grafana Cloud").
        scrape_interval: "60s",
        scheme: "https",
        metrics_path: "/metrics",
        authorization: { type: "Bearer", credentials: "placeholder-token" },
        static_configs: [{ targets: ["zander-edge.example.workers.dev"] }],
      },
    ]);
    const promFile = join(dir, `${basename(file)}-scrape.yml`);
    writeFileSync(promFile, prometheusConfig({ scrapeConfigs, ruleFiles: [], interval: "60s" }));
    const result = await tool("promtool", ["check", "config", promFile]);
    expect(result.code, result.output).toBe(0);
  });
});

describe("README, Local Prometheus and Alertmanager", () => {
  // The README's commands, run in a copy of the repository (a .dev.vars of its own) on the test's ports.
  const readme = readFileSync("README.md", "utf8");
  const section = readme.slice(readme.indexOf("### Local Prometheus and Alertmanager"));
  const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => (m[1] as string).trim());
  const commands = (blocks[0] ?? "").split("\n");
  // "Other ports": a copy of the config with the Worker's and Alertmanager's ports changed.
  const portsCommand = blocks[1] ?? "";
  const onTestPorts = (command: string) =>
    command.replace("127.0.0.1:9090", "127.0.0.1:19091").replace("127.0.0.1:9093", "127.0.0.1:19095");
  const daemons: Daemon[] = [];
  let root: string;
  beforeAll(() => {
    root = join(dir, "local");
    cpSync("collector", join(root, "collector"), { recursive: true });
    cpSync(".dev.vars.example", join(root, ".dev.vars"));
  });
  afterAll(async () => {
    for (const d of daemons) await d.stop();
  });

  it("writes the metrics token file, and the local config passes promtool check config", async () => {
    expect(commands).toHaveLength(3);
    await exec("sh", ["-c", commands[0] as string], { cwd: root });
    expect(readFileSync(join(root, ".tmp", "metrics-token"), "utf8")).toBe("dev-only-metrics-token\n");
    const result = await tool("promtool", [
      "check",
      "config",
      join(root, "collector", "prometheus.local.yml"),
    ]);
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain("SUCCESS: 2 rule files found");
  });

  it("starts Prometheus with the rules and the Worker as target, and Alertmanager with the shipped config", async () => {
    const [prometheusBin, ...prometheusArgs] = onTestPorts(commands[1] as string).split(" ");
    expect(prometheusBin).toBe("prometheus");
    daemons.push(
      await startDaemon(
        prometheusBin as string,
        prometheusArgs,
        "http://127.0.0.1:19091/-/ready",
        30_000,
        root,
      ),
    );
    const rules = (await (await fetch("http://127.0.0.1:19091/api/v1/rules")).json()) as {
      data: { groups: { name: string }[] };
    };
    const shipped = RULE_FILES.flatMap((f) =>
      (parse(readFileSync(f, "utf8")) as { groups: { name: string }[] }).groups.map((g) => g.name),
    );
    expect(rules.data.groups.map((g) => g.name).sort()).toEqual(shipped.sort());
    // Service discovery fills the target list a moment after readiness.
    type Targets = { data: { activeTargets: { scrapeUrl: string; labels: Record<string, string> }[] } };
    let targets: Targets["data"]["activeTargets"] = [];
    for (let i = 0; i < 50 && targets.length === 0; i++) {
      targets = ((await (await fetch("http://127.0.0.1:19091/api/v1/targets")).json()) as Targets).data
        .activeTargets;
      if (targets.length === 0) await new Promise((r) => setTimeout(r, 200));
    }
    expect(targets).toMatchObject([
      { scrapeUrl: "http://127.0.0.1:8787/metrics", labels: { job: "zander-edge" } },
    ]);

    const [amBin, ...amArgs] = onTestPorts(commands[2] as string).split(" ");
    expect(amBin).toBe("prometheus-alertmanager");
    daemons.push(await startDaemon(amBin as string, amArgs, "http://127.0.0.1:19095/-/ready", 30_000, root));
  });

  it("on other ports: scrapes the Worker and alerts the Alertmanager of the copied config, with the rules", async () => {
    expect(portsCommand.split("\n")).toHaveLength(1);
    await exec("sh", ["-c", portsCommand], { cwd: root });
    const config = join(root, ".tmp", "prometheus.local.yml");
    const check = await tool("promtool", ["check", "config", config]);
    expect(check.code, check.output).toBe(0);
    expect(check.output).toContain("SUCCESS: 2 rule files found");
    // The README's Prometheus command with the copy, on a port and storage of its own beside the first one.
    const [bin, ...args] = (commands[1] as string)
      .replace("collector/prometheus.local.yml", ".tmp/prometheus.local.yml")
      .replace(".tmp/prometheus ", ".tmp/prometheus-ports ")
      .replace("127.0.0.1:9090", "127.0.0.1:19097")
      .split(" ");
    daemons.push(await startDaemon(bin as string, args, "http://127.0.0.1:19097/-/ready", 30_000, root));
    const api = async <T>(path: string): Promise<T> =>
      ((await (await fetch(`http://127.0.0.1:19097/api/v1/${path}`)).json()) as { data: T }).data;
    const rules = await api<{ groups: unknown[] }>("rules");
    expect(rules.groups.length).toBeGreaterThan(0);
    let scrapeUrls: string[] = [];
    let alertmanagers: string[] = [];
    for (let i = 0; i < 50 && (scrapeUrls.length === 0 || alertmanagers.length === 0); i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 200));
      scrapeUrls = (await api<{ activeTargets: { scrapeUrl: string }[] }>("targets")).activeTargets.map(
        (t) => t.scrapeUrl,
      );
      alertmanagers = (
        await api<{ activeAlertmanagers: { url: string }[] }>("alertmanagers")
      ).activeAlertmanagers.map((a) => a.url);
    }
    expect(scrapeUrls).toEqual(["http://127.0.0.1:8788/metrics"]);
    expect(alertmanagers).toEqual(["http://127.0.0.1:9094/api/v2/alerts"]);
  });
});

describe("collector/alertmanager.yml", () => {
  it("passes amtool check-config", async () => {
    const result = await tool("amtool", ["check-config", ALERTMANAGER_CONFIG]);
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain("SUCCESS");
  });

  it.each([
    ["critical", "pager,chat"],
    ["warning", "chat"],
    ["info", "null"],
    ["", "chat"],
  ])("routes severity=%j to %s", async (severity, receivers) => {
    const labels = [
      "alertname=BufferFull",
      "service=zander-edge",
      ...(severity ? [`severity=${severity}`] : []),
    ];
    const result = await tool("amtool", [
      "config",
      "routes",
      "test",
      `--config.file=${ALERTMANAGER_CONFIG}`,
      ...labels,
    ]);
    expect(result.code, result.output).toBe(0);
    expect(result.output.trim().split("\n")[0]).toBe(receivers);
  });

  describe("in a running Alertmanager", () => {
    let webhook: RecordingServer;
    let alertmanager: Daemon;
    const amPort = 19094;
    beforeAll(async () => {
      webhook = await startRecordingServer(19098);
      const amDir = join(dir, "am");
      mkdirSync(amDir);
      alertmanager = await startAlertmanager(amPort, alertmanagerTestConfig(webhook.url), amDir);
    });
    afterAll(async () => {
      await alertmanager?.stop();
      await webhook?.close();
    });

    it("inhibits a warning while a critical of the same alertname and service fires", async () => {
      const alert = (alertname: string, severity: string) => ({
        labels: { alertname, severity, service: "zander-edge" },
        annotations: { summary: `${alertname} ${severity}` },
        startsAt: new Date().toISOString(),
      });
      const res = await fetch(`http://127.0.0.1:${amPort}/api/v2/alerts`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify([
          alert("BufferFull", "critical"),
          alert("BufferFull", "warning"),
          alert("NoConnections", "warning"),
        ]),
      });
      expect(res.status).toBe(200);
      // The uninhibited warning reaching chat proves chat notifications went out.
      await webhook.waitFor((r) => r.url === "/chat" && r.body.includes('"NoConnections"'), 15_000);
      await webhook.waitFor((r) => r.url === "/pager" && r.body.includes('"BufferFull"'), 15_000);
      // Critical and warning BufferFull share chat's group (alertname, service): its notification is the one
      // place the warning could show up, and once it arrived the set below is complete.
      await webhook.waitFor((r) => r.url === "/chat" && r.body.includes('"BufferFull"'), 15_000);
      const notified = webhook.requests.flatMap((r) =>
        (JSON.parse(r.body) as { alerts: { labels: Record<string, string> }[] }).alerts.map(
          (a) => `${r.url} ${a.labels.alertname} ${a.labels.severity}`,
        ),
      );
      expect(new Set(notified)).toEqual(
        new Set(["/pager BufferFull critical", "/chat BufferFull critical", "/chat NoConnections warning"]),
      );
    });
  });
});
