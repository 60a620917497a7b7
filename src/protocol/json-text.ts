/**
 * JSON text that keeps -0: JSON.stringify writes it as 0, and a stored `v` must come back bit for bit as the
 * float64 the relay sent (docs/storage-format.md). NUL cannot occur in ids, channels or messages, so the marker is unambiguous.
 */
const NEG_ZERO = "\u0000-0\u0000";
const NEG_ZERO_JSON = JSON.stringify(NEG_ZERO);

export function jsonText(value: unknown): string {
  return JSON.stringify(value, (_key, v) => (Object.is(v, -0) ? NEG_ZERO : v)).replaceAll(
    NEG_ZERO_JSON,
    "-0",
  );
}

/** A JSON response whose numbers keep -0. */
export function jsonResponse(value: unknown, init?: ResponseInit): Response {
  return new Response(jsonText(value), {
    ...init,
    headers: { "Content-Type": "application/json", ...init?.headers },
  });
}
