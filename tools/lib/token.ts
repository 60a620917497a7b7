import { SignJWT } from "jose";

export type TokenRole = "relay" | "consumer" | "admin";

export interface TokenRequest {
  /** AUTH_SECRET of the deployment (HS256 key). */
  secret: string;
  /** The user id: the token's `sub`. */
  userId: string;
  role: TokenRole;
  /** Lifetime in seconds (default one day). */
  ttlSeconds?: number;
}

/** Mints the HS256 JWT that docs/protocol.md, "Routes" describes: claims `sub`, `role`, `exp`. */
export async function mintToken({
  secret,
  userId,
  role,
  ttlSeconds = 86_400,
}: TokenRequest): Promise<string> {
  return new SignJWT({ role })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .sign(new TextEncoder().encode(secret));
}
