#!/usr/bin/env node
// Run first by `npm run deploy`: refuses while a D1 database of the deployed environment still has the
// all-zeros placeholder database_id of the shipped wrangler.toml, which would otherwise fail deep inside
// `wrangler d1 migrations apply` with an unhelpful error. `npm run deploy:dry-run` does not run it (CI
// bundles with the placeholder). Usage: node tools/check-deploy-config.mjs [--config FILE] [--env NAME]
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { parse } from "smol-toml";

const PLACEHOLDER = /^0{8}-0{4}-0{4}-0{4}-0{12}$/;

const { values } = parseArgs({
  options: {
    config: { type: "string", default: "wrangler.toml" },
    env: { type: "string", default: "production" },
  },
});

const config = parse(readFileSync(values.config, "utf8"));
const section = config.env?.[values.env];
if (!section) {
  console.error(`${values.config} has no [env.${values.env}] section to deploy.`);
  process.exit(1);
}

const problems = (section.d1_databases ?? [])
  .filter((db) => typeof db.database_id !== "string" || PLACEHOLDER.test(db.database_id))
  .map(
    (db) =>
      `[[env.${values.env}.d1_databases]] ${db.binding} (database "${db.database_name}") has database_id ` +
      `${JSON.stringify(db.database_id ?? null)}, the placeholder: run \`npx wrangler d1 create ${db.database_name}\` ` +
      `and put the database_id it prints there.`,
  );
if (problems.length > 0) {
  console.error(
    `Not deploying: ${values.config} is not ready for production.\n${problems.map((p) => `  ${p}`).join("\n")}`,
  );
  process.exit(1);
}
