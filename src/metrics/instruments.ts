// Moved to record/instruments.ts and catalogue.ts; kept while durable-objects/user-stream.ts imports this path.
export * from "./catalogue";
export * from "./record/instruments";
