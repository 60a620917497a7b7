import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

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
});
