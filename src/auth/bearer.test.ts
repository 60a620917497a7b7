import { describe, expect, it } from "vitest";
import { outcome } from "../../test/support/outcome";
import { bearerToken } from "./bearer";

const malformed = {
  ok: false,
  error: {
    status: 401,
    code: "unauthorized",
    message: "malformed Authorization header: expected `Bearer <token>`",
  },
};

describe("bearerToken", async () => {
  it("reads the token after Bearer in any case", async () => {
    for (const header of ["Bearer abc.def", "bearer abc.def", "BEARER  abc.def"]) {
      expect(await outcome(() => bearerToken(header)), header).toEqual({ ok: true, value: "abc.def" });
    }
  });

  it("answers null without a header", async () => {
    expect(await outcome(() => bearerToken(null))).toEqual({ ok: true, value: null });
    expect(await outcome(() => bearerToken(undefined))).toEqual({ ok: true, value: null });
  });

  it("refuses anything but one token after Bearer, naming the expected form", async () => {
    for (const header of [
      "Bearer tok junk",
      "Bearer",
      "Bearer ",
      "Basic dXNlcjpwYXNz",
      "tok",
      "Bearertok",
      "",
    ]) {
      expect(await outcome(() => bearerToken(header)), JSON.stringify(header)).toEqual(malformed);
    }
  });
});
