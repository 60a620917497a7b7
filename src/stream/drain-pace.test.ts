import { describe, expect, it } from "vitest";
import { DrainPace } from "./drain-pace";

describe("DrainPace", () => {
  it("is the wall time per sample between the first and last batch of its window", () => {
    const pace = new DrainPace();
    expect(pace.msPerSample()).toBe(0.02); // nothing timed yet
    pace.released(2_000, 1_000);
    pace.released(2_000, 1_010); // 2,000 samples in 10 ms
    expect(pace.msPerSample()).toBe(0.005);
    pace.released(2_000, 1_030);
    expect(pace.msPerSample()).toBe(30 / 4_000);
  });

  it("evens out a flush in bursts, and forgets batches older than 5 s", () => {
    const pace = new DrainPace();
    // Bursts of 8 batches 1 ms apart, every 200 ms: 16,000 samples per 200 ms.
    for (let burst = 0; burst < 10; burst++) {
      for (let i = 0; i < 8; i++) pace.released(2_000, burst * 200 + i);
    }
    expect(pace.msPerSample()).toBeCloseTo(1807 / (79 * 2_000), 6);
    // Then a slower flush, one batch of 1,000 every 100 ms for 6 s: the bursts are forgotten.
    for (let i = 1; i <= 60; i++) pace.released(1_000, 2_000 + i * 100);
    expect(pace.msPerSample()).toBeCloseTo(0.1, 6);
  });
});
