#!/usr/bin/env node
// Syncs the alert and recording rules into one namespace of a Mimir ruler (Grafana Cloud's Prometheus), the way
// `mimirtool rules sync` does:
//   npm run upload:rules [-- --namespace zander-edge] [--dry-run] [rule files...]
// It reads the namespace from the ruler, prints the difference (groups to create, update, delete), then applies
// it: POST for a new or changed group, DELETE for a group gone from the files. The namespace belongs to this
// command: a group someone added there by hand is deleted. `--dry-run` prints the difference only.
import { parseArgs } from "node:util";
import { requiredEnv } from "./lib/http-request.ts";
import { readRuleGroups } from "./lib/rule-groups.ts";
import { describePlan, planRuleSync } from "./lib/rule-sync-plan.ts";
import { RulerClient, type RulerConnection } from "./lib/ruler-client.ts";

const USAGE = `Usage: npm run upload:rules -- [--namespace <name>] [--dry-run] [rule files...]
  Rule files default to collector/rules/alerts.yml and collector/rules/recording.yml.
  Environment:
    RULER_URL        the stack's Prometheus address as Grafana Cloud shows it
                     (https://prometheus-prod-NN-prod-REGION.grafana.net); self-hosted Mimir: http://MIMIR:8080
    RULER_USERNAME   the stack's Prometheus instance id (basic auth user)
    RULER_PASSWORD   an access policy token with rules:read and rules:write
    RULER_TENANT_ID  optional: sent as X-Scope-OrgID (self-hosted multi-tenant Mimir)
  Grafana Cloud needs RULER_USERNAME and RULER_PASSWORD; a Mimir without auth needs RULER_TENANT_ID instead.`;

const DEFAULT_FILES = ["collector/rules/alerts.yml", "collector/rules/recording.yml"];

function connection(): RulerConnection {
  const address = requiredEnv("RULER_URL", "the stack's Prometheus address").replace(/\/+$/, "");
  if (/\/(api\/prom|prometheus)(\/.*)?$/.test(new URL(address).pathname)) {
    throw new Error(
      `RULER_URL is the address without a path (the command adds /prometheus/config/v1/rules): ${new URL(address).origin}`,
    );
  }
  const { RULER_USERNAME: username, RULER_PASSWORD: password, RULER_TENANT_ID: tenantId } = process.env;
  if (!username && !password && !tenantId) {
    throw new Error(
      "RULER_USERNAME is not set: set RULER_USERNAME and RULER_PASSWORD (Grafana Cloud) or RULER_TENANT_ID (Mimir without auth)",
    );
  }
  if (Boolean(username) !== Boolean(password)) {
    throw new Error(`${username ? "RULER_PASSWORD" : "RULER_USERNAME"} is not set: basic auth needs both`);
  }
  return { address, username, password, tenantId };
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: {
      namespace: { type: "string", default: "zander-edge" },
      "dry-run": { type: "boolean", default: false },
      help: { type: "boolean", short: "h" },
    },
    allowPositionals: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const ruler = new RulerClient(connection(), values.namespace);
  const local = readRuleGroups(positionals.length > 0 ? positionals : DEFAULT_FILES);
  const plan = planRuleSync(local, await ruler.groups());
  console.log(describePlan(values.namespace, plan));
  if (values["dry-run"]) {
    console.log("dry run: nothing changed");
    return;
  }
  for (const group of [...plan.create, ...plan.update.map((u) => u.group)]) {
    await ruler.put(group);
    console.log(
      `uploaded rule group ${group.name} (${group.rules.length} rules) to namespace ${values.namespace}`,
    );
  }
  for (const name of plan.delete) {
    await ruler.delete(name);
    console.log(`deleted rule group ${name} from namespace ${values.namespace}`);
  }
}

main().catch((err: Error) => {
  console.error(`${err.message}\n${USAGE}`);
  process.exit(1);
});
