#!/usr/bin/env node
import { parseArgs } from "node:util";
// Uploads the alert and recording rules to a Mimir ruler (Grafana Cloud's Prometheus):
//   npm run upload:rules [-- --namespace zander-edge] [rule files...]
// One `POST <RULER_URL>/config/v1/rules/<namespace>` per rule group (Mimir's ruler configuration API; RULER_URL
// ends with the Prometheus HTTP prefix: `/api/prom` on Grafana Cloud, `/prometheus` on Mimir): the ruler replaces
// a group of the same name, so re-running uploads the same state again.
import { stringify } from "yaml";
import { requestOk, requiredEnv } from "./lib/http-request.ts";
import { readRuleGroups } from "./lib/rule-groups.ts";

const USAGE = `Usage: npm run upload:rules -- [--namespace <name>] [rule files...]
  Rule files default to collector/rules/alerts.yml and collector/rules/recording.yml.
  Environment: RULER_URL (Grafana Cloud: https://prometheus-prod-NN-prod-REGION.grafana.net/api/prom;
  self-hosted Mimir: http://MIMIR:8080/prometheus),
  RULER_USERNAME (the stack's Prometheus instance id), RULER_PASSWORD (an access policy token with rules:write).`;

const DEFAULT_FILES = ["collector/rules/alerts.yml", "collector/rules/recording.yml"];

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: {
      namespace: { type: "string", default: "zander-edge" },
      help: { type: "boolean", short: "h" },
    },
    allowPositionals: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const rulerUrl = requiredEnv("RULER_URL", "the ruler URL with its Prometheus prefix").replace(/\/+$/, "");
  const username = requiredEnv("RULER_USERNAME", "the ruler's basic auth user (Prometheus instance id)");
  const password = requiredEnv("RULER_PASSWORD", "the ruler's basic auth password (access policy token)");
  const groups = readRuleGroups(positionals.length > 0 ? positionals : DEFAULT_FILES);
  const url = `${rulerUrl}/config/v1/rules/${encodeURIComponent(values.namespace)}`;
  const authorization = `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
  for (const group of groups) {
    await requestOk(`rule group ${group.name}`, url, {
      method: "POST",
      headers: { "content-type": "application/yaml", authorization },
      body: stringify(group),
    });
    console.log(
      `uploaded rule group ${group.name} (${group.rules.length} rules) to namespace ${values.namespace}`,
    );
  }
}

main().catch((err: Error) => {
  console.error(`${err.message}\n${USAGE}`);
  process.exit(1);
});
