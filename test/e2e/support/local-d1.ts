import { execFile } from "node:child_process";
import { promisify } from "node:util";

/** Which local database: the binding (`DB` unless said) of a wrangler config (wrangler.toml unless said). */
export interface LocalDatabase {
  binding?: string;
  config?: string;
}

/** Rows of a query on the local D1 of a running server, the way an operator would run it (`wrangler d1 execute`). */
export async function d1Rows(
  persistTo: string,
  sql: string,
  database: LocalDatabase = {},
): Promise<Record<string, unknown>[]> {
  const stdout = await d1(persistTo, sql, ["--json"], database);
  return (JSON.parse(stdout) as { results: Record<string, unknown>[] }[])[0]?.results ?? [];
}

export async function d1(
  persistTo: string,
  sql: string,
  extra: string[] = [],
  { binding = "DB", config }: LocalDatabase = {},
): Promise<string> {
  const { stdout } = await promisify(execFile)(
    "npx",
    [
      ...["wrangler", "d1", "execute", binding, "--local", "--persist-to", persistTo, "--command", sql],
      ...(config ? ["--config", config] : []),
      ...extra,
    ],
    {
      env: {
        ...process.env,
        CI: "true",
        WRANGLER_SEND_METRICS: "false",
        CLOUDFLARE_CF_FETCH_ENABLED: "false",
      },
    },
  );
  return stdout;
}
