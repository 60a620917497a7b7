import { describe, expect, it } from "vitest";
import { d1ErrorType } from "./d1-flusher";

describe("d1ErrorType", () => {
  it("tells a full database from other D1 errors", () => {
    expect(d1ErrorType(new Error("D1_ERROR: database or disk is full: SQLITE_FULL"))).toBe("d1_full");
    expect(d1ErrorType(new Error("D1_ERROR: Exceeded maximum DB size"))).toBe("d1_full");
    expect(d1ErrorType(new Error("D1_ERROR: injected D1 failure: SQLITE_CONSTRAINT"))).toBe("d1_error");
    expect(d1ErrorType("network connection lost")).toBe("d1_error");
  });
});
