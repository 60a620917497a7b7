/**
 * Why the server refuses a WebSocket URL. Node's WebSocket reports a refused upgrade only as a close without
 * a status, so the simulator asks the same URL again as a plain GET (no Upgrade header): the Worker runs its
 * checks (user id 400, token 401/403, auth not configured 503) before it looks for the upgrade, and answers
 * 426 only when everything but the upgrade is fine.
 */

/** A connection the server refused, or could not be made at all: the run stops at once with its message. */
export class ConnectionRefusedError extends Error {
  override name = "ConnectionRefusedError";
  /** The HTTP status of the refusal; null when the server could not be reached. */
  readonly status: number | null;

  constructor(message: string, status: number | null) {
    super(message);
    this.status = status;
  }
}

const PROBE_TIMEOUT_MS = 10_000;

/** What to check for each refusal an operator runs into. */
const HINTS: Record<number, string> = {
  400: "the URL's user id or parameters are invalid",
  401: "is --secret (or AUTH_SECRET) the deployment's AUTH_SECRET?",
  403: "the token is for another user or role",
  404: "is --url a Zander Edge deployment (and --relay-path right)?",
  503: "the deployment has no AUTH_SECRET: `npx wrangler secret put AUTH_SECRET`",
};

/**
 * Probes `socketUrl` (ws: or wss:, with user_id and token) with a plain GET. Resolves null when the server would
 * take the upgrade (426, or any answer that is not a 4xx/5xx refusal), else a ConnectionRefusedError naming
 * the status, the server's message and what to check. `role` ("relay", "consumer") goes into the message.
 */
export async function probeRefusal(socketUrl: string, role: string): Promise<ConnectionRefusedError | null> {
  const url = new URL(socketUrl);
  url.protocol = url.protocol === "wss:" ? "https:" : "http:";
  const where = `${url.origin}${url.pathname}`;
  let res: Response;
  try {
    res = await fetch(url, { redirect: "manual", signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
  } catch (err) {
    const cause = (err as Error & { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (err as Error).message;
    return new ConnectionRefusedError(
      `cannot reach ${where} for a ${role} connection: ${why} (is the server running, is --url right?)`,
      null,
    );
  }
  if (res.status === 426 || res.status < 400) {
    await res.body?.cancel();
    return null;
  }
  const text = await res.text().catch(() => "");
  let detail = text.trim().slice(0, 300);
  try {
    // Route errors: {"type":"error","code","message"} (older servers: {"error","message"}).
    const body = JSON.parse(text) as { code?: unknown; error?: unknown; message?: unknown };
    const code = body.code ?? body.error;
    if (typeof body.message === "string") detail = `${code ? `${code}: ` : ""}${body.message}`;
  } catch {
    // not JSON: keep the text
  }
  const hint = HINTS[res.status] ?? (res.status >= 500 ? "the server failed: see its logs" : "");
  return new ConnectionRefusedError(
    `the server refused the ${role} connection to ${where} with ${res.status}` +
      `${detail ? ` (${detail})` : ""}${hint ? `; ${hint}` : ""}`,
    res.status,
  );
}

/** Fewest milliseconds between two probes of one role after failed connections (thousands can fail at once). */
const PROBE_GAP_MS = 1_000;

/**
 * Watches a run's connections: `preflight` checks one URL per role before any socket opens; `connectFailed`
 * is called by every socket that closed without opening and probes (at most one probe per role at a time) why.
 * A refusal (an HTTP status) ends the run: `refused` resolves with it and `error` holds it. A network error
 * after the preflight is left to the sockets' reconnects (a restarting server).
 */
export class RefusalWatch {
  error: ConnectionRefusedError | null = null;
  readonly refused: Promise<ConnectionRefusedError>;
  private resolveRefused!: (error: ConnectionRefusedError) => void;
  private readonly probing = new Set<string>();
  private readonly lastProbeAt = new Map<string, number>();

  constructor() {
    this.refused = new Promise((resolve) => {
      this.resolveRefused = resolve;
    });
  }

  /** Throws the ConnectionRefusedError when `socketUrl` is refused or unreachable. */
  async preflight(socketUrl: string, role: string): Promise<void> {
    const refusal = await probeRefusal(socketUrl, role);
    if (refusal) {
      this.fail(refusal);
      throw refusal;
    }
  }

  connectFailed(socketUrl: string, role: string): void {
    const now = performance.now();
    if (
      this.error ||
      this.probing.has(role) ||
      now - (this.lastProbeAt.get(role) ?? -Infinity) < PROBE_GAP_MS
    )
      return;
    this.probing.add(role);
    this.lastProbeAt.set(role, now);
    void probeRefusal(socketUrl, role)
      .then((refusal) => {
        if (refusal && refusal.status !== null) this.fail(refusal);
      })
      // A probe that broke off (e.g. mid-body) tells nothing: the next failed connection probes again.
      .catch(() => {})
      .finally(() => this.probing.delete(role));
  }

  private fail(refusal: ConnectionRefusedError): void {
    if (this.error) return;
    this.error = refusal;
    this.resolveRefused(refusal);
  }
}
