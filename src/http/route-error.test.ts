import { createExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { tokenFor } from "../../test/support/ws-client";
import { app } from "../app";
import type { Env } from "../env";

const BASE = "https://edge.test";
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** One request per row of the README's "Errors" table: its status and code. */
const cases: [string, number, string, () => Promise<Response>][] = [
  ["unknown route", 404, "not_found", () => exports.default.fetch(`${BASE}/nope`)],
  ["bad user id", 400, "invalid", () => exports.default.fetch(`${BASE}/v1/relay?user_id=a%20b`)],
  ["no token", 401, "unauthorized", () => exports.default.fetch(`${BASE}/v1/users/re-u/samples`)],
  [
    "another user's token",
    403,
    "forbidden",
    async () =>
      exports.default.fetch(`${BASE}/v1/users/re-u/samples`, {
        headers: bearer(await tokenFor("re-other", "consumer")),
      }),
  ],
  [
    "no upgrade",
    426,
    "upgrade_required",
    async () =>
      exports.default.fetch(`${BASE}/v1/relay?user_id=re-u`, {
        headers: bearer(await tokenFor("re-u", "relay")),
      }),
  ],
  [
    "frame too large",
    413,
    "too_large",
    async () =>
      exports.default.fetch(`${BASE}/v1/users/re-u/samples`, {
        method: "POST",
        headers: bearer(await tokenFor("re-u", "relay")),
        body: "x".repeat(1_048_577),
      }),
  ],
  [
    "AUTH_SECRET unset",
    503,
    "auth_not_configured",
    () => onEnv(`${BASE}/v1/users/re-u/samples`, { AUTH_SECRET: undefined }),
  ],
  ["a bad var", 500, "config", () => onEnv(`${BASE}/health`, { BUFFER_CAPACITY: "0" })],
  [
    "METRICS_TOKEN unset",
    503,
    "metrics_disabled",
    () => onEnv(`${BASE}/metrics`, { METRICS_TOKEN: undefined }),
  ],
];

function onEnv(url: string, vars: Partial<Env>): Promise<Response> {
  return app.fetch(new Request(url), { ...env, ...vars }, createExecutionContext()) as Promise<Response>;
}

describe("route errors", () => {
  it.each(cases)(
    "%s: %i with {type: error, code: %s, message} and nothing else",
    async (_, status, code, call) => {
      const res = await call();
      expect(res.status).toBe(status);
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      const body = (await res.json()) as Record<string, unknown>;
      expect(Object.keys(body).sort()).toEqual(["code", "message", "type"]);
      expect(body).toMatchObject({ type: "error", code });
      expect(body.message).toEqual(expect.any(String));
    },
  );
});
