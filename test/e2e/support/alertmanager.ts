import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { type Daemon, startDaemon } from "./daemon";

export const ALERTMANAGER_CONFIG = "collector/alertmanager.yml";

interface AlertmanagerConfig {
  route: { group_wait?: string; group_interval?: string; repeat_interval?: string };
  receivers: { name: string; [integration: string]: unknown }[];
}

/**
 * The shipped Alertmanager config with its routes and inhibition unchanged, but every receiver that has an
 * integration replaced by a webhook to `${webhookBase}/<receiver name>`, and grouping waits cut to a second.
 */
export function alertmanagerTestConfig(webhookBase: string): string {
  const config = parse(readFileSync(ALERTMANAGER_CONFIG, "utf8")) as AlertmanagerConfig;
  config.route.group_wait = "1s";
  config.route.group_interval = "1s";
  config.route.repeat_interval = "1h";
  config.receivers = config.receivers.map((r) =>
    Object.keys(r).length === 1
      ? r
      : { name: r.name, webhook_configs: [{ url: `${webhookBase}/${r.name}` }] },
  );
  return stringify(config);
}

/** Starts a real Alertmanager on 127.0.0.1:port, clustering off, its data in `dir`. */
export async function startAlertmanager(port: number, configYaml: string, dir: string): Promise<Daemon> {
  const configFile = join(dir, "alertmanager.yml");
  writeFileSync(configFile, configYaml);
  return startDaemon(
    "prometheus-alertmanager",
    [
      `--config.file=${configFile}`,
      `--storage.path=${join(dir, "alertmanager-data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--cluster.listen-address=",
    ],
    `http://127.0.0.1:${port}/-/ready`,
  );
}
