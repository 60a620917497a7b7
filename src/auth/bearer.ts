import type { Checked } from "../routes/route-error";

/** `Bearer` in any case (auth schemes are case-insensitive, RFC 7235), one or more spaces, one token. */
const BEARER = /^bearer +(\S+)$/i;

/**
 * The token of an `Authorization` header, for every route that takes one (tokens and METRICS_TOKEN alike):
 * null without the header, a 401 for anything but `Bearer <token>`, so junk after the token is never ignored.
 */
export function bearerToken(header: string | null | undefined): Checked<string | null> {
  if (header === null || header === undefined) return { ok: true, value: null };
  const match = BEARER.exec(header);
  if (match?.[1]) return { ok: true, value: match[1] };
  const message = "malformed Authorization header: expected `Bearer <token>`";
  return { ok: false, error: { status: 401, code: "unauthorized", message } };
}
