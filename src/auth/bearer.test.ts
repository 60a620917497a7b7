import { describe, expect, it } from "vitest";
import { bearerToken } from "./bearer";

const malformed = {
  ok: false,
  error: {
    status: 401,
    code: "unauthorized",
    message: "malformed Authorization header: expected `Bearer <token>`",
  },
};

describe("bearerToken", () => {
  it("reads the token after Bearer in any case", () => {
    for (const header of ["Bearer abc.def", "bearer abc.def", "BEARER  abc.def"]) {
      expect(bearerToken(header), header).toEqual({ ok: true, value: "abc.def" });
    }
  });

  it("answers null without a header", () => {
    expect(bearerToken(null)).toEqual({ ok: true, value: null });
    expect(bearerToken(undefined)).toEqual({ ok: true, value: null });
  });

  it("refuses anything but one token after Bearer, naming the expected form", () => {
    for (const header of [
      "Bearer tok junk",
      "Bearer",
      "Bearer ",
      "Basic dXNlcjpwYXNz",
      "tok",
      "Bearertok",
      "",
    ]) {
      expect(bearerToken(header), JSON.stringify(header)).toEqual(malformed);
    }
  });
});
