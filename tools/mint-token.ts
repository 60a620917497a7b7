#!/usr/bin/env node
// Mints a relay, consumer or admin token: `npm run token -- --user alice --role relay [--ttl 3600]`.
// The secret comes from AUTH_SECRET in the environment, or from .dev.vars for local development.
import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { ID_RULE, isValidId } from "../src/protocol/ids.ts";
import { mintToken, type TokenRole } from "./lib/token.ts";

const USAGE = `Usage: npm run token -- --user <user_id> --role relay|consumer|admin [--ttl <seconds>]
  AUTH_SECRET is read from the environment, else from .dev.vars.`;

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

function authSecret(): string {
  if (process.env.AUTH_SECRET) return process.env.AUTH_SECRET;
  if (existsSync(".dev.vars")) {
    const line = readFileSync(".dev.vars", "utf8")
      .split("\n")
      .find((l) => l.startsWith("AUTH_SECRET="));
    const value = line?.slice("AUTH_SECRET=".length).trim();
    if (value) return value;
  }
  return fail("AUTH_SECRET is not set (environment or .dev.vars).");
}

const { values } = parseArgs({
  options: {
    user: { type: "string" },
    role: { type: "string" },
    ttl: { type: "string", default: "86400" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (!isValidId(values.user)) fail(`--user ${ID_RULE}.`);
if (values.role !== "relay" && values.role !== "consumer" && values.role !== "admin")
  fail("--role must be relay, consumer or admin.");
const ttl = Number(values.ttl);
if (!Number.isInteger(ttl) || ttl < 1) fail("--ttl must be a positive whole number of seconds.");

console.log(
  await mintToken({
    secret: authSecret(),
    userId: values.user,
    role: values.role as TokenRole,
    ttlSeconds: ttl,
  }),
);
