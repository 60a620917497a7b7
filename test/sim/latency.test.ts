import { describe, expect, it } from "vitest";
import { LatencyRecorder, percentile } from "../../tools/sim/latency.ts";

describe("percentile (nearest rank)", () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);

  it("picks the value at rank ceil(p/100 * n)", () => {
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 95)).toBe(95);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(hundred, 100)).toBe(100);
    expect(percentile([1, 2, 3], 50)).toBe(2);
  });

  it("clamps p=0 to the smallest value and is NaN for no values", () => {
    expect(percentile(hundred, 0)).toBe(1);
    expect(percentile([], 50)).toBeNaN();
  });
});

describe("LatencyRecorder", () => {
  it("reports percentiles of what it recorded, in any order", () => {
    const recorder = new LatencyRecorder();
    for (const ms of [5, 1, 4, 2, 3]) recorder.record(ms);
    expect(recorder.percentiles()).toEqual({ count: 5, p50: 3, p95: 5, p99: 5, max: 5 });
  });

  it("keeps a bounded sample past its capacity and still counts everything", () => {
    const recorder = new LatencyRecorder(1_000);
    for (let i = 0; i < 100_000; i++) recorder.record(i % 100);
    const p = recorder.percentiles();
    expect(p.count).toBe(100_000);
    // A uniform sample of 0..99: the median lands near 50, far from the first 1,000 values' pattern.
    expect(p.p50).toBeGreaterThanOrEqual(40);
    expect(p.p50).toBeLessThanOrEqual(60);
    expect(p.max).toBe(99);
  });
});
