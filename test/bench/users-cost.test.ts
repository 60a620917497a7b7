import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CellResult } from "../../tools/bench/cells.ts";
import { fitUsersCost } from "../../tools/bench/users-cost.ts";

const cell = (users: number, samplesAcked: number, serverCpuS: number) =>
  ({ users, samplesAcked, serverCpuS }) as CellResult;

describe("splitting a user count's server CPU into per sample and once per user", () => {
  it("recovers the two costs the cells were made of", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 500 }),
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 1_000, max: 1_000_000 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        (users, usPerSample, msPerUser, shortSamples, extraSamples) => {
          const cpu = (samples: number) => (samples * usPerSample) / 1e6 + (users * msPerUser) / 1e3;
          const longSamples = shortSamples + extraSamples;
          const fit = fitUsersCost(
            cell(users, shortSamples, cpu(shortSamples)),
            cell(users, longSamples, cpu(longSamples)),
          );
          expect(fit.usPerSample).toBeCloseTo(usPerSample, 1);
          expect(fit.msPerUser).toBeCloseTo(msPerUser, 1);
        },
      ),
    );
  });

  it("refuses cells that cannot be split, saying why", () => {
    expect(() => fitUsersCost(cell(10, 5_000, 1), cell(10, 5_000, 2))).toThrow(
      "cannot split the cost of 10 users: the longer cell must have the same users and more samples (5000 then 5000)",
    );
    expect(() => fitUsersCost(cell(10, 5_000, 1), cell(100, 9_000, 2))).toThrow(/same users/);
  });
});
