import { type Context, Hono } from "hono";
import type { Role } from "../auth/tokens";
import type { Env } from "../env";
import { ApiError } from "../http/route-error";
import { type AccessEnv, requireAccess } from "../middleware/access";
import { EPOCH_MS_PATTERN, EPOCH_MS_RULE } from "../protocol/ids";
import { TOKEN_EXP_HEADER, USER_HEADER } from "../protocol/object-request";

/**
 * `GET /v1/relay?user_id=U` and `GET /v1/consume?user_id=U[&since=MS]`: WebSocket upgrades, authenticated
 * before the upgrade and handed to the user's Durable Object, which accepts the socket (docs/protocol.md).
 */
export const streams = new Hono<{ Bindings: Env }>()
  .get("/v1/relay", requireAccess("relay", "query"), (c) => upgrade(c, "relay"))
  .get("/v1/consume", requireAccess("consumer", "query"), (c) => upgrade(c, "consumer"));

async function upgrade(c: Context<AccessEnv>, role: Role): Promise<Response> {
  const { userId, claims } = c.var.access;
  const since = c.req.query("since");
  if (since !== undefined && (role !== "consumer" || !EPOCH_MS_PATTERN.test(since))) {
    const message = role === "consumer" ? `since ${EPOCH_MS_RULE}` : "since is for consumers";
    throw new ApiError(400, "invalid", message);
  }
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
    const message = "this route takes a WebSocket upgrade (Upgrade: websocket)";
    throw new ApiError(426, "upgrade_required", message);
  }
  const target = new URL(role === "relay" ? "https://user-stream/relay" : "https://user-stream/consume");
  if (since !== undefined) target.searchParams.set("since", since);
  const stub = c.env.USER_STREAM.getByName(userId);
  return stub.fetch(target, {
    headers: {
      Upgrade: "websocket",
      [USER_HEADER]: userId,
      [TOKEN_EXP_HEADER]: String(claims.exp),
    },
  });
}
