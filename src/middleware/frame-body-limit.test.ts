import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { describe, expect, it, vi } from "vitest";
import { scrape, seriesValue } from "../../test/metrics/support";
import { tokenFor } from "../../test/support/ws-client";
import type { Env } from "../env";
import { requireAccess } from "./access";
import { frameBodyLimit } from "./frame-body-limit";

// The handler echoes the body's length: it runs only for bodies the limit lets through.
const app = new Hono<{ Bindings: Env }>().post(
  "/users/:user_id/frames",
  requireAccess("relay", "param"),
  frameBodyLimit(),
  async (c) => c.json({ length: (await c.req.text()).length }),
);

async function post(user: string, body: BodyInit, bindings: Env = env): Promise<Response> {
  const headers = { Authorization: `Bearer ${await tokenFor(user, "relay")}` };
  return app.request(`/users/${user}/frames`, { method: "POST", headers, body }, bindings);
}

describe("frameBodyLimit", () => {
  it("lets a body of MAX_FRAME_BYTES through to the handler", async () => {
    const res = await post("fbl-ok", "x".repeat(100), { ...env, MAX_FRAME_BYTES: "100" });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ length: 100 });
  });

  it("answers the too_large error frame with 413 and counts the refused frame", async () => {
    // Counted as a received and a failed frame of the user, like every frame refused before the user object.
    const before = await scrape();
    const res = await post("fbl-big", "x".repeat(101), { ...env, MAX_FRAME_BYTES: "100" });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({
      type: "error",
      code: "too_large",
      message: "frame is larger than 100 bytes",
    });
    const failed = 'error_type="too_large",message_type="samples"';
    const received = 'message_type="samples",user_id="fbl-big"';
    const delta = (after: string, name: string, labels: string) =>
      (seriesValue(after, name, labels) ?? 0) - (seriesValue(before, name, labels) ?? 0);
    // Shipped by a later request's metrics flush (a drain may be under way): wait until delivered.
    await vi.waitFor(async () => {
      const after = await scrape();
      expect(delta(after, "messages_failed_total", failed)).toBe(1);
      expect(delta(after, "messages_received_total", received)).toBe(1);
    });
  });

  it("checks access first: an unauthenticated oversized body is a 401, not a 413", async () => {
    const res = await app.request(
      "/users/fbl-anon/frames",
      { method: "POST", body: "x".repeat(200) },
      { ...env, MAX_FRAME_BYTES: "100" },
    );
    expect(res.status).toBe(401);
  });
});
