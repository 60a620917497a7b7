import { type Context, Hono, type Next } from "hono";
import { bearerToken } from "../auth/bearer";
import type { Env } from "../env";
import { type MergedMetrics, withoutHttp } from "../metrics/expose/merge";
import { collectMerged } from "../metrics/expose/read-shards";
import { PROMETHEUS_CONTENT_TYPE, renderPrometheusText } from "../metrics/expose/render";
import { getIsolateMetrics } from "../metrics/record/isolate-metrics";
import { errorResponse } from "./route-error";

/**
 * `GET /metrics` (everything) and `GET /metrics-custom` (application metrics, no http_*), Prometheus text 0.0.4,
 * merged from every MetricsShard so that the answer does not depend on the isolate that serves it.
 * `Authorization: Bearer <METRICS_TOKEN>` or 401; without a configured METRICS_TOKEN, 503: never open metrics.
 */
export const metricsRoutes = new Hono<{ Bindings: Env }>();

metricsRoutes.use("/metrics", requireMetricsToken);
metricsRoutes.use("/metrics-custom", requireMetricsToken);

metricsRoutes.get("/metrics", async (c) => prometheusText(c.env, (m) => m));
metricsRoutes.get("/metrics-custom", async (c) => prometheusText(c.env, withoutHttp));

async function prometheusText(env: Env, select: (m: MergedMetrics) => MergedMetrics): Promise<Response> {
  // What this isolate recorded and has not sent yet goes first, so a scrape right after a request usually sees
  // it. Batches another request is sending right now are not waited for (workerd forbids waiting on another
  // request's I/O): the next scrape has them.
  await getIsolateMetrics().flush(env);
  return new Response(renderPrometheusText(select(await collectMerged(env))), {
    headers: { "Content-Type": PROMETHEUS_CONTENT_TYPE },
  });
}

const WWW_AUTHENTICATE = { "WWW-Authenticate": 'Bearer realm="metrics"' };

async function requireMetricsToken(c: Context<{ Bindings: Env }>, next: Next): Promise<Response | undefined> {
  const expected = c.env.METRICS_TOKEN;
  if (!expected) {
    return errorResponse(c, {
      status: 503,
      code: "metrics_disabled",
      message: "METRICS_TOKEN is not configured",
    });
  }
  const given = bearerToken(c.req.header("authorization"));
  if (!given.ok) return errorResponse(c, given.error, WWW_AUTHENTICATE);
  if (given.value === null || !(await sameSecret(given.value, expected))) {
    const message = "Authorization: Bearer <METRICS_TOKEN> required";
    return errorResponse(c, { status: 401, code: "unauthorized", message }, WWW_AUTHENTICATE);
  }
  await next();
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
