import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const DASHBOARD_DIR = "collector/dashboards";

export interface PanelQuery {
  dashboard: string;
  panel: string;
  expr: string;
}

interface Dashboard {
  title: string;
  panels: { title: string; targets?: { expr: string }[] }[];
  templating: { list: { name: string; type: string; definition?: string }[] };
}

function dashboards(): Dashboard[] {
  return readdirSync(DASHBOARD_DIR)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(DASHBOARD_DIR, f), "utf8")) as Dashboard);
}

/**
 * Every panel query of every dashboard with Grafana's variables substituted the way Grafana would for a
 * Prometheus scraped every `scrapeInterval`: `$__rate_interval` (at least four scrapes) and the dashboards'
 * own query variables as "All" (`.*`).
 */
export function panelQueries(rateInterval: string): PanelQuery[] {
  return dashboards().flatMap((d) => {
    const allValues = d.templating.list.filter((v) => v.type === "query").map((v) => v.name);
    return d.panels.flatMap((p) =>
      (p.targets ?? []).map((t) => {
        let expr = t.expr.replaceAll("$__rate_interval", rateInterval);
        for (const name of allValues) expr = expr.replaceAll(`$${name}`, ".*");
        if (expr.includes("$")) throw new Error(`${d.title} / ${p.title}: unsubstituted variable in ${expr}`);
        return { dashboard: d.title, panel: p.title, expr };
      }),
    );
  });
}

/** The dashboards' `label_values(metric, label)` variable queries. */
export function labelValuesQueries(): {
  dashboard: string;
  variable: string;
  metric: string;
  label: string;
}[] {
  return dashboards().flatMap((d) =>
    d.templating.list
      .filter((v) => v.type === "query")
      .map((v) => {
        const match = /^label_values\((\w+),\s*(\w+)\)$/.exec(v.definition ?? "");
        if (!match) throw new Error(`${d.title}: variable ${v.name} is not a label_values() query`);
        return {
          dashboard: d.title,
          variable: v.name,
          metric: match[1] as string,
          label: match[2] as string,
        };
      }),
  );
}
