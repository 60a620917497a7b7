import { ApiError } from "../http/route-error";

/** `Bearer` in any case (auth schemes are case-insensitive, RFC 7235), one or more spaces, one token. */
const BEARER = /^bearer +(\S+)$/i;

/**
 * The token of an `Authorization` header, for every route that takes one (tokens and METRICS_TOKEN alike):
 * null without the header; throws (with `refusalHeaders`, e.g. a challenge) a 401 for anything but `Bearer <token>`, so junk after the token is never ignored.
 */
export function bearerToken(
  header: string | null | undefined,
  refusalHeaders?: Record<string, string>,
): string | null {
  if (header === null || header === undefined) return null;
  const match = BEARER.exec(header);
  if (match?.[1]) return match[1];
  const message = "malformed Authorization header: expected `Bearer <token>`";
  throw new ApiError(401, "unauthorized", message, refusalHeaders);
}
