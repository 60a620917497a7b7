import { exports } from "cloudflare:workers";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { connect } from "../../test/support/ws-client";
import { responseHeaders } from "./response-headers";

const get = (path: string) => exports.default.fetch(`https://edge.test${path}`);

function expectSafeHeaders(res: Response): void {
  expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  expect(res.headers.get("cache-control")).toBe("no-store");
}

describe("responseHeaders", () => {
  it("marks answers nosniff and no-store, errors too", async () => {
    for (const path of ["/health", "/nope", "/metrics", "/v1/users/rh-u/samples"]) {
      const res = await get(path);
      expectSafeHeaders(res);
      await res.body?.cancel();
    }
  });

  it("leaves a WebSocket upgrade working", async () => {
    const relay = await connect("relay", "rh-socket");
    expect(await relay.request({ type: "ping" })).toEqual({ type: "pong" });
    relay.close();
  });

  it("copies a response whose headers are immutable instead of failing", async () => {
    const app = new Hono();
    app.use(responseHeaders());
    app.get("/away", () => Response.redirect("https://edge.test/health", 302));
    const res = await app.request("/away");
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("https://edge.test/health");
    expectSafeHeaders(res);
  });
});
