import { createExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { mintToken } from "../../tools/lib/token.ts";
import { BASE, samplesFrame, tokenFor, upgrade } from "../support/ws-client";

const user = "auth-alice";

/** The four authenticated routes, each called with a token (or none), or with its own Authorization header. */
const routes = {
  relay: (token: string | null, headers?: Record<string, string>) =>
    upgrade("relay", user, { token: headers ? null : token, headers }),
  consume: (token: string | null, headers?: Record<string, string>) =>
    upgrade("consumer", user, { token: headers ? null : token, headers }),
  post: (token: string | null, headers?: Record<string, string>) =>
    exports.default.fetch(`${BASE}/v1/users/${user}/samples`, {
      method: "POST",
      headers: headers ?? (token ? { Authorization: `Bearer ${token}` } : {}),
      body: JSON.stringify(samplesFrame("r1", "s1", 1)),
    }),
  read: (token: string | null, headers?: Record<string, string>) =>
    exports.default.fetch(`${BASE}/v1/users/${user}/samples`, {
      headers: headers ?? (token ? { Authorization: `Bearer ${token}` } : {}),
    }),
};
const roleOf = { relay: "relay", consume: "consumer", post: "relay", read: "consumer" } as const;
const otherRole = { relay: "consumer", consume: "relay", post: "consumer", read: "relay" } as const;

/** An unsigned token (`alg: none`) with valid-looking claims. */
function unsignedToken(role: string): string {
  const b64 = (value: object) =>
    btoa(JSON.stringify(value)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
  return `${b64({ alg: "none", typ: "JWT" })}.${b64({ sub: user, role, exp: Math.floor(Date.now() / 1000) + 600 })}.`;
}

describe.each(Object.keys(routes) as (keyof typeof routes)[])("auth on %s", (name) => {
  const call = routes[name];
  const role = roleOf[name];

  it("refuses a missing token with 401", async () => {
    const res = await call(null);
    expect(res.status).toBe(401);
    expect(await res.text()).toContain("missing token");
  });

  it("refuses a bad signature, an unsigned token and garbage with 401", async () => {
    const forged = await mintToken({ secret: "not-the-secret", userId: user, role });
    for (const token of [forged, unsignedToken(role), "not.a.jwt"]) {
      const res = await call(token);
      expect(res.status).toBe(401);
      expect(await res.text()).toContain("invalid token");
    }
  });

  it("refuses an expired token with 401", async () => {
    const res = await call(await tokenFor(user, role, -60));
    expect(res.status).toBe(401);
    expect(await res.text()).toContain("token expired");
  });

  it("refuses another user's token with 403", async () => {
    const res = await call(await tokenFor("auth-bob", role));
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ type: "error", code: "forbidden", message: /another user/ });
  });

  it("refuses the wrong role with 403", async () => {
    const res = await call(await tokenFor(user, otherRole[name]));
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({
      code: "forbidden",
      message: `token role is ${otherRole[name]}; this route needs ${role}`,
    });
  });

  it("refuses an Authorization header that is not `Bearer <token>` with 401 saying so", async () => {
    const token = await tokenFor(user, role);
    for (const header of [`Bearer ${token} junk`, `Basic ${token}`, token]) {
      const res = await call(null, { Authorization: header });
      expect(res.status, header).toBe(401);
      expect(await res.json()).toEqual({
        type: "error",
        code: "unauthorized",
        message: "malformed Authorization header: expected `Bearer <token>`",
      });
    }
  });

  it("refuses a token living longer than MAX_TOKEN_LIFETIME_S (30 days) with 401", async () => {
    const res = await call(await tokenFor(user, role, 31 * 86_400));
    expect(res.status).toBe(401);
    expect(await res.text()).toContain("token lifetime too long");
  });

  it("accepts the scheme in any case", async () => {
    const res = await call(null, { Authorization: `bearer ${await tokenFor(user, role)}` });
    expect(res.status).toBe(name === "relay" || name === "consume" ? 101 : 200);
    res.webSocket?.accept();
    res.webSocket?.close();
  });

  it("accepts the right token", async () => {
    const res = await call(await tokenFor(user, role));
    expect(res.status).toBe(name === "relay" || name === "consume" ? 101 : 200);
    res.webSocket?.accept();
    res.webSocket?.close();
  });
});

describe("upgrade routes", () => {
  it("take the token from ?token= (browsers cannot set WebSocket headers)", async () => {
    const token = await tokenFor(user, "relay");
    const res = await exports.default.fetch(`${BASE}/v1/relay?user_id=${user}&token=${token}`, {
      headers: { Upgrade: "websocket" },
    });
    expect(res.status).toBe(101);
    res.webSocket?.accept();
    res.webSocket?.close();
  });

  it("answer 400 for a missing or malformed user id, naming it", async () => {
    for (const query of ["", "?user_id=", "?user_id=a%20b", `?user_id=${"x".repeat(65)}`]) {
      const res = await exports.default.fetch(`${BASE}/v1/relay${query}`, {
        headers: { Upgrade: "websocket" },
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { message: string }).message).toMatch(/^user_id must be 1-64 characters/);
    }
  });

  it("answer 426 without an Upgrade header, and 400 for a bad since", async () => {
    const token = await tokenFor(user, "consumer");
    const plain = await exports.default.fetch(`${BASE}/v1/consume?user_id=${user}`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(plain.status).toBe(426);
    const since = await upgrade("consumer", user, { since: -5 as number });
    expect(since.status).toBe(400);
    expect(await since.text()).toContain("since must be epoch milliseconds");
  });

  it("answer 503 naming AUTH_SECRET when it is not configured, never accepting a token", async () => {
    const token = await tokenFor(user, "relay");
    const res = await app.fetch(
      new Request(`${BASE}/v1/relay?user_id=${user}`, {
        headers: { Upgrade: "websocket", Authorization: `Bearer ${token}` },
      }),
      { ...env, AUTH_SECRET: undefined },
      createExecutionContext(),
    );
    expect(res.status).toBe(503);
    expect(await res.text()).toContain("AUTH_SECRET is not configured");
  });
});
