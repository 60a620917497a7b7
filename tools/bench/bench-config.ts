import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { LOCAL_WRANGLER_ENV } from "../local-dev-env.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** Durable Object classes the benchmark build adds to the real Worker (tools/bench/worker.ts). */
export const CEILING_BINDINGS = {
  PARSE_ACK_CEILING: "ParseAckCeiling",
  SQLITE_COMMIT_CEILING: "SqliteCommitCeiling",
} as const;

/**
 * Writes the benchmark's wrangler config into `dir` and returns its path. It is the top-level part of the
 * project's own wrangler.toml (everything before the first `[env.*]` table: compatibility date and flags,
 * bindings, vars, migrations), with `main` pointing at tools/bench/worker.ts and the two ceiling objects
 * added, so the benchmark can never drift from what `npm start` and production run.
 */
export function writeBenchConfig(
  dir: string,
  main = join(root, "tools/bench/worker.ts"),
  noBundle = false,
): string {
  const source = readFileSync(join(root, "wrangler.toml"), "utf8");
  const envStart = source.search(/^\[+env\./m);
  let config = envStart === -1 ? source : source.slice(0, envStart);
  const replace = (pattern: RegExp, line: string) => {
    if (!pattern.test(config)) throw new Error(`wrangler.toml has no line matching ${pattern}`);
    config = config.replace(pattern, line);
  };
  replace(/^main\s*=.*$/m, `main = ${JSON.stringify(main)}${noBundle ? "\nno_bundle = true" : ""}`);
  replace(/^migrations_dir\s*=.*$/m, `migrations_dir = ${JSON.stringify(join(root, "migrations"))}`);
  // The config lives in another directory: the live view's assets by absolute path, like the migrations.
  replace(/^directory\s*=.*$/m, `directory = ${JSON.stringify(join(root, "public"))}`);
  for (const [binding, className] of Object.entries(CEILING_BINDINGS)) {
    config += `\n[[durable_objects.bindings]]\nname = "${binding}"\nclass_name = "${className}"\n`;
  }
  config += `\n[[migrations]]\ntag = "bench-ceilings"\nnew_sqlite_classes = ${JSON.stringify(Object.values(CEILING_BINDINGS))}\n`;
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "wrangler.bench.toml");
  writeFileSync(path, config);
  return path;
}

/**
 * Builds the benchmark Worker once (`wrangler deploy --dry-run`) and returns a config that serves that bundle
 * as is. `wrangler dev` reloads on every source change; with a frozen bundle an edit elsewhere in the tree
 * cannot restart the runtime in the middle of a measurement, and every cell measures the same build.
 */
export function freezeBenchBuild(dir: string): string {
  const sourceConfig = writeBenchConfig(dir);
  const outdir = join(dir, "dist");
  const build = spawnSync(
    join(root, "node_modules/.bin/wrangler"),
    ["deploy", "--dry-run", "--outdir", outdir, "--config", sourceConfig],
    { cwd: root, env: { ...process.env, ...LOCAL_WRANGLER_ENV }, encoding: "utf8" },
  );
  if (build.status !== 0)
    throw new Error(`building the benchmark Worker failed:\n${build.stdout}\n${build.stderr}`);
  return writeBenchConfig(join(dir, "frozen"), join(outdir, "worker.js"), true);
}
