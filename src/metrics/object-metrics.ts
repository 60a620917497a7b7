// Moved to record/object-metrics.ts; kept while durable-objects/user-stream.ts imports this path.
export * from "./record/object-metrics";
