import { createMiddleware } from "hono/factory";
import { getConfig } from "../config";
import type { Env } from "../env";

/**
 * Reads the configuration before any route runs, so that a bad var fails every request loudly (500 `config`,
 * naming the variable), `/health` included: uptime checks are how operators notice. Parsed once per env.
 */
export function requireValidConfig() {
  return createMiddleware<{ Bindings: Env }>(async (c, next) => {
    getConfig(c.env);
    await next();
  });
}
