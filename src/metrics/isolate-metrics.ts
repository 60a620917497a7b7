// Moved to record/isolate-metrics.ts; kept while src/routes/samples.ts imports this path.
export * from "./record/isolate-metrics";
