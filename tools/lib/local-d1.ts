import { execFile } from "node:child_process";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** Which local database: the binding (`DB` unless said) of a wrangler config (wrangler.toml unless said). */
export interface LocalDatabase {
  binding?: string;
  config?: string;
}

/**
 * Rows of a query on the local D1 under `persistTo`, run as an operator runs it (`wrangler d1 execute --local`);
 * the rows of its last statement.
 */
export async function localD1Rows<T = Record<string, unknown>>(
  persistTo: string,
  sql: string,
  { binding = "DB", config }: LocalDatabase = {},
): Promise<T[]> {
  const { stdout } = await promisify(execFile)(
    join(root, "node_modules", ".bin", "wrangler"),
    [
      ...["d1", "execute", binding, "--local", "--persist-to", persistTo, "--json", "--command", sql],
      ...(config ? ["--config", config] : []),
    ],
    {
      cwd: root,
      // wrangler needs the Node 22 of node_modules/.bin, ahead of the machine's own.
      env: {
        ...process.env,
        PATH: `${join(root, "node_modules", ".bin")}${delimiter}${process.env.PATH ?? ""}`,
        CI: "true",
        WRANGLER_SEND_METRICS: "false",
        CLOUDFLARE_CF_FETCH_ENABLED: "false",
      },
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const results = JSON.parse(stdout) as { results: T[] }[];
  return results.at(-1)?.results ?? [];
}
