import { Hono } from "hono";
import { ConfigError } from "./config";
import type { Env } from "./env";
import { ApiError, errorResponse } from "./http/route-error";
import { httpMetrics } from "./metrics/record/http-middleware";
import { responseHeaders } from "./middleware/response-headers";
import { requireValidConfig } from "./middleware/valid-config";
import { channels } from "./routes/channels";
import { exportRoute } from "./routes/export";
import { health } from "./routes/health";
import { livePage } from "./routes/live-page";
import { metricsRoutes } from "./routes/metrics";
import { samples } from "./routes/samples";
import { streams } from "./routes/streams";
import { userData } from "./routes/user-data";

/** The Worker's HTTP surface (docs/protocol.md). Each route group lives in src/routes/. */
export const app = new Hono<{ Bindings: Env }>();

app.use(httpMetrics());
app.use(responseHeaders());
app.use(requireValidConfig());
app.route("/", health);
app.route("/", metricsRoutes);
app.route("/", streams);
app.route("/", samples);
app.route("/", channels);
app.route("/", userData);
app.route("/", exportRoute);
app.route("/", livePage);

app.notFound((c) =>
  errorResponse(c, { status: 404, code: "not_found", message: `No route for ${c.req.method} ${c.req.path}` }),
);

// The one place a refusal is answered: auth, middleware and routes throw ApiError and never build error bodies.
app.onError((err, c) => {
  if (err instanceof ApiError) return errorResponse(c, err, err.headers);
  if (err instanceof ConfigError) {
    console.error(err.message);
    return errorResponse(c, { status: 500, code: "config", message: err.message });
  }
  console.error("unhandled error", err);
  return errorResponse(c, { status: 500, code: "internal", message: "Internal error" });
});
