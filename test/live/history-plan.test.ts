import { describe, expect, it } from "vitest";
import {
  bucketColumns,
  bucketStep,
  MAX_BUCKETS,
  RAW_POINT_LIMIT,
  sampleColumns,
  seriesRequest,
  wantsRaw,
} from "../../public/live/history-plan.js";

const DAY = 86_400_000;

describe("live view: how much history to ask for", () => {
  it("keeps every range at or under MAX_BUCKETS buckets, with a nice step", () => {
    for (const span of [100, 1_000, 60_000, 3_600_000, DAY, 7 * DAY, 400 * DAY]) {
      const from = 1_763_700_000_123;
      const { from: f, to: t, step } = seriesRequest(from, from + span);
      expect((t - f) / step).toBeLessThanOrEqual(MAX_BUCKETS + 1);
      expect(f).toBeLessThanOrEqual(from);
      expect(t).toBeGreaterThanOrEqual(from + span);
      expect(f % step).toBe(0);
    }
    expect(bucketStep(0, DAY)).toBe(60_000);
    expect(bucketStep(0, 60_000)).toBe(50);
    expect(bucketStep(0, 100)).toBe(1);
  });

  it("a day at 50 Hz (4.32 million samples) is 1,440 buckets; a minute of it (3,000) is raw", () => {
    const step = bucketStep(0, DAY);
    const dayBuckets = Array.from({ length: DAY / step }, (_, i) => ({
      t: i * step,
      count: (50 * step) / 1000,
    }));
    expect(dayBuckets.length).toBe(1_440);
    expect(wantsRaw(dayBuckets)).toBe(false);
    const minute = [{ t: 0, count: 3_000 }];
    expect(wantsRaw(minute)).toBe(true);
    expect(wantsRaw([{ t: 0, count: RAW_POINT_LIMIT + 1 }])).toBe(false);
  });

  it("turns buckets into uPlot columns with a gap where buckets are missing", () => {
    const b = (t: number, v: number) => ({ t, count: 2, min: v - 1, max: v + 1, mean: v, first: v, last: v });
    expect(bucketColumns([b(0, 5), b(10, 6), b(40, 7)], 10)).toEqual([
      [0, 10, 20, 40],
      [5, 6, null, 7],
      [4, 5, null, 6],
      [6, 7, null, 8],
    ]);
    expect(
      sampleColumns([
        { t: 1, v: 2 },
        { t: 3, v: 4 },
      ]),
    ).toEqual([
      [1, 3],
      [2, 4],
    ]);
  });
});
