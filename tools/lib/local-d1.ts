import { execFile } from "node:child_process";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** Rows of a query on the local D1 under `persistTo` (`wrangler d1 execute --local`, as an operator runs it). */
export async function localD1Rows(persistTo: string, sql: string): Promise<Record<string, number>[]> {
  const { stdout } = await promisify(execFile)(
    join(root, "node_modules", ".bin", "wrangler"),
    ["d1", "execute", "DB", "--local", "--persist-to", persistTo, "--json", "--command", sql],
    {
      cwd: root,
      // wrangler needs the Node 22 of node_modules/.bin, ahead of the machine's own.
      env: {
        ...process.env,
        PATH: `${join(root, "node_modules", ".bin")}${delimiter}${process.env.PATH ?? ""}`,
        CI: "true",
        WRANGLER_SEND_METRICS: "false",
      },
    },
  );
  return (JSON.parse(stdout) as { results: Record<string, number>[] }[])[0]?.results ?? [];
}
