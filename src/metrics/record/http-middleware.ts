import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import type { Env } from "../../env";
import { getIsolateMetrics } from "./isolate-metrics";

const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/**
 * Records the HTTP metrics of the README's "Metrics" for every request, labelled by the route pattern that served it
 * (`/v1/users/:user_id/samples`, never the raw path, so labels stay bounded), and flushes them to the aggregator
 * under `waitUntil` once the response is ready.
 */
export function httpMetrics(): MiddlewareHandler<{ Bindings: Env }> {
  return async (c, next) => {
    const metrics = getIsolateMetrics();
    const { httpRequests, httpRequestDuration, httpRequestsInProgress, httpRequestSize, httpResponseSize } =
      metrics.instruments;
    const method = KNOWN_METHODS.has(c.req.method) ? c.req.method : "OTHER";
    const route = routePattern(c);
    const started = Date.now();
    httpRequestsInProgress.add(1, { method, route });
    try {
      await next();
    } finally {
      httpRequestsInProgress.add(-1, { method, route });
      // Date.now() advances only across I/O in workerd: the duration covers the I/O the request waited for.
      httpRequestDuration.record((Date.now() - started) / 1000, { method, route });
      httpRequests.add(1, { method, route, status: String(c.res.status) });
      httpRequestSize.record(contentLength(c.req.header("content-length")) ?? 0);
      // Most responses (c.json, c.text) carry no Content-Length yet: measure a tee of the body off the hot path.
      const known = contentLength(c.res.headers.get("content-length"));
      const body = known === undefined && c.res.status !== 101 && c.res.body ? c.res.clone() : null;
      const done = (async () => {
        httpResponseSize.record(known ?? (body ? (await body.arrayBuffer()).byteLength : 0));
        await metrics.flush(c.env);
      })();
      try {
        c.executionCtx.waitUntil(done);
      } catch {
        // No execution context (app.request() in a unit test): finish before answering.
        await done;
      }
    }
  };
}

/** The pattern of the handler that serves the request; "unmatched" for a 404 that no route matched. */
function routePattern(c: Context): string {
  const routes = matchedRoutes(c);
  for (let i = routes.length - 1; i >= 0; i--) {
    const r = routes[i];
    // Middleware is registered with use() (method ALL); handlers with get()/post()/...
    if (r && r.method !== "ALL") return r.path;
  }
  return "unmatched";
}

function contentLength(header: string | null | undefined): number | undefined {
  if (header === null || header === undefined || header === "") return undefined;
  const n = Number(header);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}
