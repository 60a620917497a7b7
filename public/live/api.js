// Reads of the Worker's HTTP API with the consumer token as `Authorization: Bearer`, and the probe that turns
// a failed WebSocket handshake (browsers report no status for it) into the server's own 401/403 message.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** GET `path` as JSON; a non-2xx answer throws ApiError with the server's message. */
export async function getJson(path, token, signal) {
  const response = await fetch(path, { headers: { Authorization: `Bearer ${token}` }, signal });
  const text = await response.text();
  let body = null;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON (a proxy's error page): the status says enough.
  }
  if (!response.ok) {
    // Error bodies are {"type":"error","code","message"} (older servers: {"error","message"}).
    const code = body?.code ?? body?.error ?? `http_${response.status}`;
    const message = body?.message ?? `${response.status} ${response.statusText}`;
    throw new ApiError(response.status, code, message);
  }
  return body;
}

/** Percent-encoded query string; array values repeat the parameter (`ch=a&ch=b`). */
export function query(params) {
  const q = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue;
    for (const v of Array.isArray(value) ? value : [value]) q.append(name, String(v));
  }
  return q.toString();
}

/**
 * Asks the samples route what the WebSocket handshake would not tell: null when the token is good for this
 * user, else {status, message} as the server words it. Network failures throw (the caller retries).
 */
export async function probeAccess(userId, token) {
  try {
    await getJson(`/v1/users/${encodeURIComponent(userId)}/samples?limit=1`, token);
    return null;
  } catch (err) {
    if (err instanceof ApiError && [400, 401, 403, 503].includes(err.status)) {
      return { status: err.status, message: err.message };
    }
    throw err;
  }
}
