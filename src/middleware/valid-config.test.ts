import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { tokenFor } from "../../test/support/ws-client";
import { app } from "../app";

const badEnv = { ...env, FLUSH_INTERVAL_MS: "-5" };

async function call(path: string, headers: Record<string, string> = {}): Promise<Response> {
  return app.fetch(new Request(`https://edge.test${path}`, { headers }), badEnv, createExecutionContext());
}

describe("a bad var", () => {
  it("fails reads of stored samples with 500 config naming it, before any storage access", async () => {
    const token = await tokenFor("cfg-reader", "consumer");
    const res = await call("/v1/users/cfg-reader/samples", { Authorization: `Bearer ${token}` });
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({ type: "error", code: "config", message: /FLUSH_INTERVAL_MS/ });
  });

  it("fails every request the same way, even an unauthenticated one or an unknown route", async () => {
    for (const path of ["/v1/users/cfg-reader/samples", "/nope", "/health"]) {
      const res = await call(path);
      expect(res.status, path).toBe(500);
      expect(await res.json()).toMatchObject({ code: "config", message: /FLUSH_INTERVAL_MS must be/ });
    }
  });
});
