import type { Env } from "../env";
import { type Role, type TokenClaims, tokenFromRequest, verifyToken } from "./tokens";

export type Authorization =
  | { ok: true; claims: TokenClaims }
  | { ok: false; status: 401 | 403 | 503; message: string };

/**
 * Decides whether `request` may act as `role` for `userId` (SPEC §2): 401 for a missing, bad or expired
 * token, 403 for a token of another user or role, 503 when AUTH_SECRET is not configured (never open).
 */
export async function authorize(
  request: Request,
  env: Env,
  userId: string,
  role: Role,
): Promise<Authorization> {
  const secret = env.AUTH_SECRET;
  if (!secret) {
    return { ok: false, status: 503, message: "AUTH_SECRET is not configured: no token can be verified" };
  }
  const check = await verifyToken(tokenFromRequest(request), secret);
  if (!check.ok) return { ok: false, status: 401, message: check.message };
  if (check.claims.userId !== userId) {
    return { ok: false, status: 403, message: `token is for another user, not ${JSON.stringify(userId)}` };
  }
  if (check.claims.role !== role) {
    return {
      ok: false,
      status: 403,
      message: `token role is ${check.claims.role}; this route needs ${role}`,
    };
  }
  return check;
}
