import { errors, jwtVerify } from "jose";
import type { Checked } from "../routes/route-error";

export type Role = "relay" | "consumer";

export interface TokenClaims {
  userId: string;
  role: Role;
  /** Expiry, epoch seconds. */
  exp: number;
}

const keys = new Map<string, Uint8Array>();

function keyFor(secret: string): Uint8Array {
  let key = keys.get(secret);
  if (!key) {
    key = new TextEncoder().encode(secret);
    keys.set(secret, key);
  }
  return key;
}

/** The token of a request: `Authorization: Bearer <token>`, else `?token=` (browsers cannot set WebSocket headers). */
export function tokenFromRequest(request: Request): string | null {
  const header = request.headers.get("Authorization");
  if (header) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return match?.[1] ?? null;
  }
  return new URL(request.url).searchParams.get("token");
}

const unauthorized = (message: string): Checked<never> => ({
  ok: false,
  error: { status: 401, code: "unauthorized", message },
});

/**
 * Verifies an HS256 JWT signed with AUTH_SECRET (SPEC §2) and reads its claims `sub`, `role`, `exp`; any
 * failure is a 401. Only HS256 is accepted, so an unsigned (`alg: none`) or otherwise signed token never passes.
 */
export async function verifyToken(token: string | null, secret: string): Promise<Checked<TokenClaims>> {
  if (!token) return unauthorized("missing token: send Authorization: Bearer <token> or ?token=");
  try {
    const { payload } = await jwtVerify(token, keyFor(secret), {
      algorithms: ["HS256"],
      requiredClaims: ["sub", "exp"],
    });
    const role = payload.role;
    if (role !== "relay" && role !== "consumer") {
      return unauthorized('invalid token: claim "role" must be relay or consumer');
    }
    return { ok: true, value: { userId: payload.sub as string, role, exp: payload.exp as number } };
  } catch (err) {
    if (err instanceof errors.JWTExpired) return unauthorized("token expired");
    return unauthorized(`invalid token: ${(err as Error).message}`);
  }
}
