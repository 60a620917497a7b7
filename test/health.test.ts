import { createExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../src/app";

describe("GET /health", () => {
  it("answers 200 {status: ok} without auth", async () => {
    const res = await exports.default.fetch("https://edge.test/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
  });

  it("answers unknown routes with a JSON 404 naming the path", async () => {
    const res = await exports.default.fetch("https://edge.test/nope");
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ type: "error", code: "not_found", message: "No route for GET /nope" });
  });

  it("answers 500 naming the variable when a var is bad, so uptime checks notice", async () => {
    const res = await app.fetch(
      new Request("https://edge.test/health"),
      { ...env, BUFFER_CAPACITY: "lots" },
      createExecutionContext(),
    );
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({
      type: "error",
      code: "config",
      message: 'Invalid configuration: BUFFER_CAPACITY must be an integer from 1 to 1000000, got "lots"',
    });
  });
});
