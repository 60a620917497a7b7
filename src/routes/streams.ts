import { type Context, Hono } from "hono";
import type { Role } from "../auth/tokens";
import type { Env } from "../env";
import { EPOCH_MS_PATTERN, EPOCH_MS_RULE } from "../protocol/ids";
import { TOKEN_EXP_HEADER, USER_HEADER } from "../protocol/object-request";
import { checkAccess, errorResponse } from "./guard";

/**
 * `GET /v1/relay?user_id=U` and `GET /v1/consume?user_id=U[&since=MS]`: WebSocket upgrades, authenticated
 * here and handed to the user's Durable Object, which accepts the socket (SPEC §2, §3).
 */
export const streams = new Hono<{ Bindings: Env }>()
  .get("/v1/relay", (c) => upgrade(c, "relay"))
  .get("/v1/consume", (c) => upgrade(c, "consumer"));

async function upgrade(c: Context<{ Bindings: Env }>, role: Role): Promise<Response> {
  const access = await checkAccess(c, c.req.query("user_id"), role);
  if (!access.ok) return errorResponse(c, access.refusal.status, access.refusal.code, access.refusal.message);
  const since = c.req.query("since");
  if (since !== undefined && (role !== "consumer" || !EPOCH_MS_PATTERN.test(since))) {
    const message = role === "consumer" ? `since ${EPOCH_MS_RULE}` : "since is for consumers";
    return errorResponse(c, 400, "invalid", message);
  }
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
    return errorResponse(
      c,
      426,
      "upgrade_required",
      "this route takes a WebSocket upgrade (Upgrade: websocket)",
    );
  }
  const target = new URL(role === "relay" ? "https://user-stream/relay" : "https://user-stream/consume");
  if (since !== undefined) target.searchParams.set("since", since);
  const stub = c.env.USER_STREAM.getByName(access.userId);
  return stub.fetch(target, {
    headers: {
      Upgrade: "websocket",
      [USER_HEADER]: access.userId,
      [TOKEN_EXP_HEADER]: String(access.claims.exp),
    },
  });
}
