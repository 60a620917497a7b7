import { env, exports } from "cloudflare:workers";
import { mintToken, type TokenRole } from "../../tools/lib/token.ts";

export const BASE = "https://edge.test";

/** A valid token for `userId` and `role`, signed with the test AUTH_SECRET (vitest.config.ts). */
export function tokenFor(userId: string, role: TokenRole, ttlSeconds?: number): Promise<string> {
  return mintToken({ secret: env.AUTH_SECRET as string, userId, role, ttlSeconds });
}

/** A server frame as JSON. */
// biome-ignore lint/suspicious/noExplicitAny: test frames are checked with toEqual/toMatchObject.
export type Frame = Record<string, any>;

/**
 * A WebSocket client of the Worker, as an outside client would be: upgrade through `exports.default.fetch`,
 * then frames in and out. `next()` waits for the next frame the server sent.
 */
export class TestSocket {
  readonly #frames: Frame[] = [];
  readonly #waiters: ((frame: Frame) => void)[] = [];
  closed: { code: number; reason: string } | null = null;

  constructor(readonly ws: WebSocket) {
    ws.addEventListener("message", (event) => {
      const frame = JSON.parse(event.data as string) as Frame;
      const waiter = this.#waiters.shift();
      if (waiter) waiter(frame);
      else this.#frames.push(frame);
    });
    ws.addEventListener("close", (event) => {
      this.closed = { code: event.code, reason: event.reason };
    });
  }

  send(frame: Frame | string): void {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** The next frame from the server; fails after `timeoutMs`. */
  next(timeoutMs = 5_000): Promise<Frame> {
    const queued = this.#frames.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const index = this.#waiters.indexOf(waiter);
        if (index >= 0) this.#waiters.splice(index, 1);
        reject(new Error(`no frame within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = (frame: Frame) => {
        clearTimeout(timer);
        resolve(frame);
      };
      this.#waiters.push(waiter);
    });
  }

  /** The next `count` frames, in order. */
  async take(count: number, timeoutMs?: number): Promise<Frame[]> {
    const frames: Frame[] = [];
    for (let i = 0; i < count; i++) frames.push(await this.next(timeoutMs));
    return frames;
  }

  /** Sends a frame and returns the server's next frame (its ack or error). */
  async request(frame: Frame | string): Promise<Frame> {
    this.send(frame);
    return this.next();
  }

  close(): void {
    this.ws.close(1000, "done");
  }
}

/** Opens `/v1/relay` or `/v1/consume` for `userId` with a fresh token; throws with the body if refused. */
export async function connect(
  role: TokenRole,
  userId: string,
  options: { since?: number; token?: string } = {},
): Promise<TestSocket> {
  const res = await upgrade(role, userId, options);
  if (res.status !== 101 || !res.webSocket) {
    throw new Error(`upgrade refused: ${res.status} ${await res.text()}`);
  }
  res.webSocket.accept();
  return new TestSocket(res.webSocket);
}

/** The raw upgrade response (for the refusal tests). */
export async function upgrade(
  role: TokenRole,
  userId: string,
  options: { since?: number; token?: string | null; headers?: Record<string, string> } = {},
): Promise<Response> {
  const path = role === "relay" ? "/v1/relay" : "/v1/consume";
  const url = new URL(path, BASE);
  url.searchParams.set("user_id", userId);
  if (options.since !== undefined) url.searchParams.set("since", String(options.since));
  const token = options.token === undefined ? await tokenFor(userId, role) : options.token;
  const headers: Record<string, string> = { Upgrade: "websocket", ...options.headers };
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  return exports.default.fetch(url, { headers });
}

/** A `samples` frame with `count` samples whose values identify (seq, idx). */
export function samplesFrame(
  relayId: string,
  sessionId: string,
  seq: number,
  count = 1,
  t0 = 1_763_700_000_000,
): Frame {
  const samples = Array.from({ length: count }, (_, idx) => ({
    t: t0 + seq * 1000 + idx,
    ch: "hr",
    v: seq + idx / 1000,
  }));
  return { type: "samples", relay_id: relayId, session_id: sessionId, seq, samples };
}

/** POST /v1/users/:id/samples with a relay token (or `token`); returns the response. */
export async function postFrame(userId: string, frame: Frame | string, token?: string): Promise<Response> {
  return exports.default.fetch(`${BASE}/v1/users/${userId}/samples`, {
    method: "POST",
    headers: {
      Authorization: `Bearer ${token ?? (await tokenFor(userId, "relay"))}`,
      "Content-Type": "application/json",
    },
    body: typeof frame === "string" ? frame : JSON.stringify(frame),
  });
}
