import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { tokenFor } from "../../test/support/ws-client";
import type { Env } from "../env";
import { requireAccess } from "./access";

// A bare app: only the middleware under test and a handler that shows what it put into c.var.
const app = new Hono<{ Bindings: Env }>()
  .get("/users/:user_id/thing", requireAccess("consumer", "param"), (c) => c.json(c.var.access))
  .get("/stream", requireAccess("relay", "query"), (c) => c.json(c.var.access));

const call = (path: string, token?: string, bindings: Env = env) =>
  app.request(path, token ? { headers: { Authorization: `Bearer ${token}` } } : {}, bindings);

describe("requireAccess", () => {
  it("puts userId, role and the token's claims into c.var.access", async () => {
    const token = await tokenFor("acc-u1", "consumer", 600);
    const res = await call("/users/acc-u1/thing", token);
    expect(res.status).toBe(200);
    const access = (await res.json()) as { userId: string; role: string; claims: { exp: number } };
    expect(access).toMatchObject({ userId: "acc-u1", role: "consumer", claims: { userId: "acc-u1" } });
    expect(access.claims.exp).toBeGreaterThan(Date.now() / 1000 + 500);
    const relay = await call("/stream?user_id=acc-u2", await tokenFor("acc-u2", "relay"));
    expect(await relay.json()).toMatchObject({ userId: "acc-u2", role: "relay" });
  });

  it("answers 400 invalid for a missing or malformed user id, before looking at the token", async () => {
    for (const path of ["/stream", "/stream?user_id=a%20b", "/users/a%2Fb/thing"]) {
      const res = await call(path);
      expect(res.status, path).toBe(400);
      expect(await res.json()).toMatchObject({ type: "error", code: "invalid" });
    }
  });

  it("answers 401 unauthorized without a token", async () => {
    const res = await call("/users/acc-u1/thing");
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ type: "error", code: "unauthorized", message: /missing token/ });
  });

  it("answers 403 forbidden for another user's token or the other role", async () => {
    const other = await call("/users/acc-u1/thing", await tokenFor("acc-bob", "consumer"));
    expect(other.status).toBe(403);
    expect(await other.json()).toEqual({
      type: "error",
      code: "forbidden",
      message: 'token is for another user, not "acc-u1"',
    });
    const role = await call("/users/acc-u1/thing", await tokenFor("acc-u1", "relay"));
    expect(role.status).toBe(403);
    expect(await role.json()).toMatchObject({ code: "forbidden", message: /this route needs consumer/ });
  });

  it("answers 503 auth_not_configured without AUTH_SECRET, never letting a token through", async () => {
    const token = await tokenFor("acc-u1", "consumer");
    const res = await call("/users/acc-u1/thing", token, { ...env, AUTH_SECRET: undefined });
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ code: "auth_not_configured", message: /AUTH_SECRET/ });
  });
});
