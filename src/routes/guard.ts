import type { Context } from "hono";
import { authorize } from "../auth/authorize";
import type { Role, TokenClaims } from "../auth/tokens";
import type { Env } from "../env";
import { ID_RULE, isValidId } from "../protocol/ids";

/** A refusal before any work: the HTTP status and the message naming what was wrong. */
export interface Refusal {
  status: 400 | 401 | 403 | 503;
  code: "invalid" | "unauthorized" | "auth_not_configured";
  message: string;
}

/**
 * Checks the user id (400), then the token (401, or 503 without AUTH_SECRET), then that the token is for
 * this user and role (403): SPEC §2. Runs before any upgrade or storage access.
 */
export async function checkAccess(
  c: Context<{ Bindings: Env }>,
  userId: string | undefined,
  role: Role,
): Promise<{ ok: true; userId: string; claims: TokenClaims } | { ok: false; refusal: Refusal }> {
  if (!isValidId(userId)) {
    const got = userId === undefined ? "missing" : JSON.stringify(userId);
    return {
      ok: false,
      refusal: { status: 400, code: "invalid", message: `user_id ${ID_RULE} (got ${got})` },
    };
  }
  const auth = await authorize(c.req.raw, c.env, userId, role);
  if (auth.ok) return { ok: true, userId, claims: auth.claims };
  const code = auth.status === 503 ? "auth_not_configured" : "unauthorized";
  return { ok: false, refusal: { status: auth.status, code, message: auth.message } };
}

/** JSON error body of the Worker's routes (as for unknown routes): `{"error": code, "message": ...}`. */
export function errorResponse(c: Context, status: number, code: string, message: string): Response {
  return c.json({ error: code, message }, status as 400);
}
