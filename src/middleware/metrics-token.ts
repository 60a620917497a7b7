import { createMiddleware } from "hono/factory";
import { bearerToken } from "../auth/bearer";
import type { Env } from "../env";
import { ApiError } from "../http/route-error";

const WWW_AUTHENTICATE = { "WWW-Authenticate": 'Bearer realm="metrics"' };

/**
 * Lets a metrics scrape through only with `Authorization: Bearer <METRICS_TOKEN>` (401 with a challenge);
 * without a configured METRICS_TOKEN, 503: metrics are never open.
 */
export function requireMetricsToken() {
  return createMiddleware<{ Bindings: Env }>(async (c, next) => {
    const expected = c.env.METRICS_TOKEN;
    if (!expected) throw new ApiError(503, "metrics_disabled", "METRICS_TOKEN is not configured");
    const given = bearerToken(c.req.header("authorization"), WWW_AUTHENTICATE);
    if (given === null || !(await sameSecret(given, expected))) {
      const message = "Authorization: Bearer <METRICS_TOKEN> required";
      throw new ApiError(401, "unauthorized", message, WWW_AUTHENTICATE);
    }
    await next();
  });
}

/** Constant-time comparison: both sides are hashed first, so neither content nor length leaks through timing. */
async function sameSecret(given: string, expected: string): Promise<boolean> {
  const enc = new TextEncoder();
  const [a, b] = await Promise.all([
    crypto.subtle.digest("SHA-256", enc.encode(given)),
    crypto.subtle.digest("SHA-256", enc.encode(expected)),
  ]);
  return crypto.subtle.timingSafeEqual(a, b);
}
