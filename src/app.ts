import { Hono } from "hono";
import { ConfigError } from "./config";
import type { Env } from "./env";
import { httpMetrics } from "./metrics/http-middleware";
import { health } from "./routes/health";
import { livePage } from "./routes/live-page";
import { metricsRoutes } from "./routes/metrics";
import { samples } from "./routes/samples";
import { streams } from "./routes/streams";

/** The Worker's HTTP surface (SPEC §2). Each route group lives in src/routes/. */
export const app = new Hono<{ Bindings: Env }>();

app.use(httpMetrics());
app.route("/", health);
app.route("/", metricsRoutes);
app.route("/", streams);
app.route("/", samples);
app.route("/", livePage);

app.notFound((c) =>
  c.json({ error: "not_found", message: `No route for ${c.req.method} ${c.req.path}` }, 404),
);

app.onError((err, c) => {
  if (err instanceof ConfigError) {
    console.error(err.message);
    return c.json({ error: "config", message: err.message }, 500);
  }
  console.error("unhandled error", err);
  return c.json({ error: "internal", message: "Internal error" }, 500);
});
