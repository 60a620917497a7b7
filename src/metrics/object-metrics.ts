// Moved to record/object-metrics.ts (GAUGE_REFRESH_MS to wire.ts); kept while code outside src/metrics imports this path.
export * from "./record/object-metrics";
export { GAUGE_REFRESH_MS } from "./wire";
