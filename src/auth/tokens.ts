import { base64url, errors, type JWTPayload, jwtVerify } from "jose";
import { ApiError } from "../http/route-error";
import { bearerToken } from "./bearer";

export type Role = "relay" | "consumer" | "admin";

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

/**
 * The token of a request: `Authorization: Bearer <token>`, else `?token=` (browsers cannot set WebSocket
 * headers); null when there is neither; throws a 401 for a malformed header.
 */
export function tokenFromRequest(request: Request): string | null {
  const header = request.headers.get("Authorization");
  if (header !== null) return bearerToken(header);
  return new URL(request.url).searchParams.get("token");
}

const unauthorized = (message: string): ApiError => new ApiError(401, "unauthorized", message);

/** What verifying a token needs: the HS256 key and the longest lifetime a token may still have. */
export interface TokenPolicy {
  secret: string;
  /** MAX_TOKEN_LIFETIME_S: a token whose `exp` is further from now is refused. */
  maxLifetimeS: number;
}

/**
 * Verifies an HS256 JWT signed with AUTH_SECRET (docs/protocol.md) and reads its claims `sub`, `role`, `exp`; any
 * failure throws a 401. Only HS256 is accepted, so an unsigned (`alg: none`) or otherwise signed token never passes.
 * Stricter than jose alone: one encoding per token (canonical base64url), and `exp` an integer within the
 * policy's lifetime, so a leaked token cannot be valid for ever.
 */
export async function verifyToken(
  token: string | null,
  policy: TokenPolicy,
  nowS = Date.now() / 1000,
): Promise<TokenClaims> {
  if (!token) throw unauthorized("missing token: send Authorization: Bearer <token> or ?token=");
  if (!isCanonicalCompactJws(token)) {
    throw unauthorized("invalid token: expected three canonical base64url parts (no padding) joined by dots");
  }
  const { sub, role, exp } = await verifiedPayload(token, policy.secret, nowS);
  if (typeof sub !== "string") throw unauthorized('invalid token: claim "sub" must be a string');
  if (role !== "relay" && role !== "consumer" && role !== "admin") {
    throw unauthorized('invalid token: claim "role" must be relay, consumer or admin');
  }
  if (!Number.isInteger(exp)) throw unauthorized('invalid token: claim "exp" must be whole epoch seconds');
  if ((exp as number) > nowS + policy.maxLifetimeS) {
    throw unauthorized(
      `token lifetime too long: "exp" is more than MAX_TOKEN_LIFETIME_S (${policy.maxLifetimeS} s) from now`,
    );
  }
  return { userId: sub, role, exp: exp as number };
}

/** The payload of an HS256 token with a valid signature and `sub` and `exp`, not yet expired; else a 401. */
async function verifiedPayload(token: string, secret: string, nowS: number): Promise<JWTPayload> {
  try {
    const { payload } = await jwtVerify(token, keyFor(secret), {
      algorithms: ["HS256"],
      requiredClaims: ["sub", "exp"],
      currentDate: new Date(nowS * 1000),
    });
    return payload;
  } catch (err) {
    if (err instanceof errors.JWTExpired) throw unauthorized("token expired");
    throw unauthorized(`invalid token: ${(err as Error).message}`);
  }
}

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * jose decodes leniently (a trailing `=`, whitespace, or unused low bits in the last character all decode to
 * the same bytes), so one signature would have many spellings. Only the spelling that re-encodes to itself passes.
 */
function isCanonicalCompactJws(token: string): boolean {
  if (!COMPACT_JWS.test(token)) return false;
  return token.split(".").every((part) => {
    try {
      return base64url.encode(base64url.decode(part)) === part;
    } catch {
      return false;
    }
  });
}
