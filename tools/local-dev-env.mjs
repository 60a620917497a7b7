// The environment every local wrangler run uses (npm start, benchmarks, end-to-end tests):
// no cf-fetch from the internet, no telemetry, and no local observability layer, which makes
// hibernated WebSocket events 6-100x slower and floods the logs.
export const LOCAL_WRANGLER_ENV = {
  X_LOCAL_OBSERVABILITY: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_SEND_METRICS: "false",
};
