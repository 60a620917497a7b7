// Moved to record/instruments.ts and catalogue.ts; kept while code outside src/metrics imports this path.
export * from "./catalogue";
export * from "./record/instruments";
