// Applies migrations/ to every user D1 database of a wrangler environment: `DB` and each `DB_<NAME>` binding
// (README, "Several D1 databases"). `npm start` runs it with --local, `npm run deploy` with --remote.
//   node tools/migrate-d1.ts (--local [--persist-to DIR] | --remote) [--env NAME] [--config FILE]
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { unstable_readConfig } from "wrangler";
import { isUserDatabaseBinding } from "../src/d1-bindings.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: {
    local: { type: "boolean", default: false },
    remote: { type: "boolean", default: false },
    env: { type: "string" },
    "persist-to": { type: "string" },
    config: { type: "string", default: join(root, "wrangler.toml") },
  },
});
if (values.local === values.remote) {
  console.error(
    "usage: node tools/migrate-d1.ts (--local [--persist-to DIR] | --remote) [--env NAME] [--config FILE]",
  );
  process.exit(2);
}

// wrangler's own reader, so that environments and inheritance follow its rules.
const config = unstable_readConfig({ config: values.config, env: values.env });
const bindings = config.d1_databases.map((d: { binding: string }) => d.binding).filter(isUserDatabaseBinding);
if (!bindings.includes("DB")) {
  console.error(`${values.config}${values.env ? ` [env.${values.env}]` : ""} binds no D1 database named DB`);
  process.exit(1);
}

const wrangler = join(root, "node_modules", ".bin", "wrangler");
for (const binding of bindings) {
  const args = ["d1", "migrations", "apply", binding, values.local ? "--local" : "--remote"];
  args.push("--config", values.config);
  if (values.env) args.push("--env", values.env);
  if (values["persist-to"]) args.push("--persist-to", values["persist-to"]);
  // CI=true: apply without the interactive confirmation.
  const run = spawnSync(wrangler, args, { cwd: root, env: { ...process.env, CI: "true" }, stdio: "inherit" });
  if (run.status !== 0) {
    console.error(`Applying the D1 migrations to ${binding} failed; see the output above.`);
    process.exit(run.status ?? 1);
  }
}
