import { describe, expect, it } from "vitest";
import { MIN_RANGE_MS } from "../../public/live/history-plan.js";
import { liveRange, pan, rangeFromInputs, toInputValue, zoom } from "../../public/live/view-range.js";

describe("live view: zoom and pan", () => {
  it("zooms around the middle and stops at the smallest range", () => {
    expect(zoom({ from: 1000, to: 2000 }, 0.5)).toEqual({ from: 1250, to: 1750 });
    expect(zoom({ from: 1000, to: 2000 }, 2)).toEqual({ from: 500, to: 2500 });
    const tiny = zoom({ from: 1000, to: 1010 }, 0.5);
    expect(tiny.to - tiny.from).toBe(MIN_RANGE_MS);
  });

  it("pans by a fraction of the range", () => {
    expect(pan({ from: 1000, to: 2000 }, -0.5)).toEqual({ from: 500, to: 1500 });
    expect(liveRange(10_000, 1_000)).toEqual({ from: 9_000, to: 10_000 });
  });

  it("reads datetime-local inputs and names what is wrong", () => {
    const from = Date.parse("2026-11-30T10:00:00");
    expect(toInputValue(from)).toBe("2026-11-30T10:00:00");
    expect(rangeFromInputs("2026-11-30T10:00:00", "2026-11-30T10:01:00")).toEqual({
      range: { from, to: from + 60_000 },
    });
    expect(rangeFromInputs("", "2026-11-30T10:01:00")).toEqual({ error: "From is not a date and time." });
    expect(rangeFromInputs("2026-11-30T10:00:00", "x")).toEqual({ error: "To is not a date and time." });
    expect(rangeFromInputs("2026-11-30T10:01:00", "2026-11-30T10:00:00")).toEqual({
      error: "To must be after From.",
    });
  });
});
