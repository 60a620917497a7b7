/// <reference types="vite/client" />
import { describe, expect, it } from "vitest";
import readme from "../../README.md?raw";
import { METRICS } from "../../src/metrics/catalogue";

// README's "Metrics" table says it lists every metric of the catalogue, as Prometheus names it.
describe("README, Metrics", () => {
  it("has a row for every metric of the catalogue, with its type", () => {
    const section = readme.slice(readme.indexOf("\n## Metrics"), readme.indexOf("\nHistogram buckets:"));
    const rows = section.split("\n").filter((line) => line.startsWith("| `"));
    for (const [name, { kind }] of Object.entries(METRICS)) {
      const exposed = kind === "counter" ? `${name}_total` : name;
      const row = rows.find((r) => r.split("|")[1]?.includes(`\`${exposed}\``));
      expect(row, exposed).toBeDefined();
      expect(row?.split("|")[2]?.trim(), exposed).toBe(kind);
    }
  });
});
