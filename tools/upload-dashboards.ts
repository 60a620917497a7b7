#!/usr/bin/env node
// Uploads the Grafana dashboards of collector/dashboards/ into one folder of a Grafana (Cloud) instance:
//   npm run upload:dashboards [-- --folder-uid zander-edge --folder-title "Zander Edge"] [dashboard files...]
// Dashboards keep the uid written in their JSON and are posted with `overwrite: true`, and the folder is
// created only when missing, so re-running converges on the same state.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { requestOk, requiredEnv } from "./lib/http-request.ts";

const USAGE = `Usage: npm run upload:dashboards -- [--folder-uid <uid>] [--folder-title <title>] [dashboard files...]
  Dashboard files default to collector/dashboards/*.json.
  Environment: GRAFANA_URL (e.g. https://YOURSTACK.grafana.net), GRAFANA_TOKEN (a service account token with
  the Editor role).`;

const DASHBOARD_DIR = "collector/dashboards";

interface DashboardJson {
  uid?: unknown;
  title?: unknown;
  id?: unknown;
}

function readDashboard(path: string): DashboardJson & { uid: string; title: string } {
  const dashboard = JSON.parse(readFileSync(path, "utf8")) as DashboardJson;
  if (typeof dashboard.uid !== "string" || dashboard.uid === "")
    throw new Error(`${path} has no "uid": without a stable uid every upload would create a copy`);
  if (typeof dashboard.title !== "string") throw new Error(`${path} has no "title"`);
  return { ...dashboard, uid: dashboard.uid, title: dashboard.title };
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: {
      "folder-uid": { type: "string", default: "zander-edge" },
      "folder-title": { type: "string", default: "Zander Edge" },
      help: { type: "boolean", short: "h" },
    },
    allowPositionals: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const grafanaUrl = requiredEnv("GRAFANA_URL", "the Grafana base URL").replace(/\/+$/, "");
  const token = requiredEnv("GRAFANA_TOKEN", "a Grafana service account token");
  const files =
    positionals.length > 0
      ? positionals
      : readdirSync(DASHBOARD_DIR)
          .filter((f) => f.endsWith(".json"))
          .sort()
          .map((f) => join(DASHBOARD_DIR, f));
  const dashboards = files.map(readDashboard);
  const headers = { "content-type": "application/json", authorization: `Bearer ${token}` };
  const folderUid = values["folder-uid"];

  const folderUrl = `${grafanaUrl}/api/folders/${encodeURIComponent(folderUid)}`;
  const existing = await fetch(folderUrl, { headers });
  if (existing.status === 404) {
    await requestOk(`folder ${folderUid}`, `${grafanaUrl}/api/folders`, {
      method: "POST",
      headers,
      body: JSON.stringify({ uid: folderUid, title: values["folder-title"] }),
    });
    console.log(`created folder ${folderUid}`);
  } else if (!existing.ok) {
    throw new Error(
      `folder ${folderUid}: GET ${folderUrl} answered ${existing.status}: ${await existing.text()}`,
    );
  }

  for (const dashboard of dashboards) {
    // `id` is per instance; the uid identifies the dashboard everywhere.
    const { id: _id, ...portable } = dashboard;
    await requestOk(`dashboard ${dashboard.uid}`, `${grafanaUrl}/api/dashboards/db`, {
      method: "POST",
      headers,
      body: JSON.stringify({
        dashboard: portable,
        folderUid,
        overwrite: true,
        message: "npm run upload:dashboards",
      }),
    });
    console.log(`uploaded dashboard ${dashboard.uid} (${dashboard.title}) to folder ${folderUid}`);
  }
}

main().catch((err: Error) => {
  console.error(`${err.message}\n${USAGE}`);
  process.exit(1);
});
