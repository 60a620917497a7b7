import { Hono } from "hono";
import type { Env } from "../env";
import { type MergedMetrics, withoutHttp } from "../metrics/expose/merge";
import { collectMerged } from "../metrics/expose/read-shards";
import { PROMETHEUS_CONTENT_TYPE, renderPrometheusText } from "../metrics/expose/render";
import { getIsolateMetrics } from "../metrics/record/isolate-metrics";
import { requireMetricsToken } from "../middleware/metrics-token";

/**
 * `GET /metrics` (everything) and `GET /metrics-custom` (application metrics, no http_*), Prometheus text 0.0.4,
 * merged from every MetricsShard so that the answer does not depend on the isolate that serves it.
 * Behind `requireMetricsToken` (src/middleware/metrics-token.ts): never open metrics.
 */
export const metricsRoutes = new Hono<{ Bindings: Env }>();

metricsRoutes.use("/metrics", requireMetricsToken());
metricsRoutes.use("/metrics-custom", requireMetricsToken());

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
