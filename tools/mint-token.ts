#!/usr/bin/env node
// Mints a relay, consumer or admin token: `npm run token -- --user alice --role relay [--ttl 3600]`.
// AUTH_SECRET and MAX_TOKEN_LIFETIME_S come from the environment, or from .dev.vars for local development.
// It refuses what the Worker would refuse (its own config and id checks), in one line with exit status 2.
import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import "./lib/src-imports.ts";
import { ID_RULE, isValidId } from "../src/protocol/ids.ts";
import { mintToken, type TokenRole } from "./lib/token.ts";

const { ConfigError, getConfig } = await import("../src/config.ts");
type Env = import("../src/env.ts").Env;

const USAGE = `Usage: npm run token -- --user <user_id> --role relay|consumer|admin [--ttl <seconds>]
  --ttl defaults to 86400 and may be at most MAX_TOKEN_LIFETIME_S (30 days unless set).
  AUTH_SECRET and MAX_TOKEN_LIFETIME_S are read from the environment, else from .dev.vars.`;
const HELP_HINT = "(npm run token -- --help shows the usage)";
const DEFAULT_TTL_S = 86_400;

class Refusal extends Error {}

/** A setting as the local Worker sees it: the environment, else .dev.vars. */
function setting(name: string): string | undefined {
  if (process.env[name]) return process.env[name];
  if (!existsSync(".dev.vars")) return undefined;
  const line = readFileSync(".dev.vars", "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${name}=`));
  return line?.slice(name.length + 1).trim() || undefined;
}

/** The Worker's own validation of these settings, so that no token is minted that it would refuse. */
function serverPolicy(): { secret: string; maxLifetimeS: number } {
  const secret = setting("AUTH_SECRET");
  if (!secret) throw new Refusal("AUTH_SECRET is not set (environment or .dev.vars).");
  try {
    const env = { AUTH_SECRET: secret, MAX_TOKEN_LIFETIME_S: setting("MAX_TOKEN_LIFETIME_S") };
    return { secret, maxLifetimeS: getConfig(env as Env).maxTokenLifetimeS };
  } catch (err) {
    if (err instanceof ConfigError) throw new Refusal(err.message);
    throw err;
  }
}

async function main(argv: string[]): Promise<string | null> {
  let values: { user?: string; role?: string; ttl?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        user: { type: "string" },
        role: { type: "string" },
        ttl: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    throw new Refusal((err as Error).message);
  }
  if (values.help) return null;
  if (!isValidId(values.user)) throw new Refusal(`--user ${ID_RULE}.`);
  const role = values.role;
  if (role !== "relay" && role !== "consumer" && role !== "admin") {
    throw new Refusal("--role must be relay, consumer or admin.");
  }
  const { secret, maxLifetimeS } = serverPolicy();
  // Plain digits, as the Worker reads its integers: Number() would take "1e3" and "0x10".
  const ttl = values.ttl === undefined ? Math.min(DEFAULT_TTL_S, maxLifetimeS) : Number(values.ttl);
  if (values.ttl !== undefined && (!/^\d{1,16}$/.test(values.ttl) || ttl < 1)) {
    throw new Refusal("--ttl must be a positive whole number of seconds.");
  }
  if (ttl > maxLifetimeS) {
    throw new Refusal(
      `--ttl must be at most MAX_TOKEN_LIFETIME_S (${maxLifetimeS} s): the server refuses a token that lives longer.`,
    );
  }
  return mintToken({ secret, userId: values.user, role: role as TokenRole, ttlSeconds: ttl });
}

try {
  const token = await main(process.argv.slice(2));
  console.log(token ?? USAGE);
} catch (err) {
  if (!(err instanceof Refusal)) throw err;
  console.error(`${err.message} ${HELP_HINT}`);
  process.exit(2);
}
