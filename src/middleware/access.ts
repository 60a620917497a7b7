import { createMiddleware } from "hono/factory";
import { type Role, type TokenClaims, tokenFromRequest, verifyToken } from "../auth/tokens";
import { getConfig } from "../config";
import type { Env } from "../env";
import { ApiError } from "../http/route-error";
import { ID_RULE, isValidId } from "../protocol/ids";

/** Who a request acts for, once `requireAccess` let it through. */
export interface Access {
  userId: string;
  role: Role;
  claims: TokenClaims;
}

/** Hono env of the routes behind `requireAccess`: handlers read `c.var.access` and never re-check auth. */
export type AccessEnv = { Bindings: Env; Variables: { access: Access } };

/**
 * Lets a request through only when it may act as `role` for the user named by the `user_id` path parameter
 * or query parameter (docs/protocol.md), before any upgrade, body or storage access. Refusals are thrown as ApiError.
 */
export function requireAccess(role: Role, userIdFrom: "param" | "query") {
  return createMiddleware<AccessEnv>(async (c, next) => {
    const userId = userIdFrom === "param" ? c.req.param("user_id") : c.req.query("user_id");
    c.set("access", await checkAccess(c.req.raw, c.env, userId, role));
    await next();
  });
}

/**
 * The user id (400), then the token (401: missing, malformed, badly signed, expired or living longer than
 * MAX_TOKEN_LIFETIME_S; 503 while AUTH_SECRET is not configured: never open), then that the token is for this
 * user (403) and this role (403).
 */
async function checkAccess(
  request: Request,
  env: Env,
  userId: string | undefined,
  role: Role,
): Promise<Access> {
  if (!isValidId(userId)) {
    const got = userId === undefined ? "missing" : JSON.stringify(userId);
    throw new ApiError(400, "invalid", `user_id ${ID_RULE} (got ${got})`);
  }
  const secret = env.AUTH_SECRET;
  if (!secret) {
    const message = "AUTH_SECRET is not configured: no token can be verified";
    throw new ApiError(503, "auth_not_configured", message);
  }
  const token = tokenFromRequest(request);
  const claims = await verifyToken(token, { secret, maxLifetimeS: getConfig(env).maxTokenLifetimeS });
  if (claims.userId !== userId) {
    const message = `token is for another user, not ${JSON.stringify(userId)}`;
    throw new ApiError(403, "forbidden", message);
  }
  if (claims.role !== role) {
    const message = `token role is ${claims.role}; this route needs ${role}`;
    throw new ApiError(403, "forbidden", message);
  }
  return { userId, role, claims };
}
