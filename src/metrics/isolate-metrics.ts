// Moved to record/isolate-metrics.ts; kept while code outside src/metrics imports this path.
export * from "./record/isolate-metrics";
