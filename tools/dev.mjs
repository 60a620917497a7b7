#!/usr/bin/env node
// `npm start`: prepares a fresh clone (creates .dev.vars from .dev.vars.example, applies the local D1
// migrations to every user database) and runs `wrangler dev` on 127.0.0.1:8787 with the local flags. Extra
// arguments are passed to wrangler dev, e.g. `npm start -- --port 8788 --var BUFFER_CAPACITY:100`.
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { LOCAL_WRANGLER_ENV } from "./local-dev-env.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = join(root, "node_modules", ".bin");
// wrangler 4 needs Node 22, which comes from node_modules/.bin (the machine's own node may be older).
const env = { ...process.env, ...LOCAL_WRANGLER_ENV, PATH: `${bin}${delimiter}${process.env.PATH ?? ""}` };
const wrangler = join(bin, "wrangler");
const extra = process.argv.slice(2);
/** `--persist-to DIR` and `--config FILE` of the arguments, for the migrations too. */
const passOn = (flag) => (extra.includes(flag) ? [flag, extra[extra.indexOf(flag) + 1]] : []);
const migrateArgs = [...passOn("--persist-to"), ...passOn("--config")];

if (!existsSync(join(root, ".dev.vars"))) {
  copyFileSync(join(root, ".dev.vars.example"), join(root, ".dev.vars"));
  console.log("Created .dev.vars from .dev.vars.example (local-only secrets).");
}

const migrateD1 = [join(root, "tools", "migrate-d1.ts"), "--local", ...migrateArgs];
const migrate = spawnSync(process.execPath, migrateD1, { cwd: root, env, stdio: "inherit" });
if (migrate.status !== 0) {
  console.error("Applying local D1 migrations failed; see the output above.");
  process.exit(migrate.status ?? 1);
}

const hasFlag = (flag) => extra.includes(flag);
const args = [
  "dev",
  ...(hasFlag("--ip") ? [] : ["--ip", "127.0.0.1"]),
  ...(hasFlag("--port") ? [] : ["--port", "8787"]),
  ...extra,
];
const child = spawn(wrangler, args, { cwd: root, env, stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
