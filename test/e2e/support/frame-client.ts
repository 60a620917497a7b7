import { mintToken, type TokenRole } from "../../../tools/lib/token.ts";

export type Frame = Record<string, unknown>;

/** Opens a WebSocket (Node's built-in client) and waits until it is open. */
export function openWebSocket(url: string): Promise<WebSocket> {
  const socket = new WebSocket(url);
  return new Promise((resolve, reject) => {
    socket.addEventListener("open", () => resolve(socket), { once: true });
    socket.addEventListener("error", () => reject(new Error(`WebSocket ${url} failed to open`)), {
      once: true,
    });
  });
}

/** Opens `/v1/relay` or `/v1/consume` of a running Worker for `userId`, with a token minted from `secret`. */
export async function openStream(
  baseUrl: string,
  secret: string,
  role: TokenRole,
  userId: string,
): Promise<WebSocket> {
  const token = await mintToken({ secret, userId, role });
  const path = role === "relay" ? "/v1/relay" : "/v1/consume";
  return openWebSocket(`${baseUrl.replace(/^http/, "ws")}${path}?user_id=${userId}&token=${token}`);
}

/** A WebSocket client of a running Worker that hands out the server's frames in order: `next()` waits. */
export class FrameClient {
  private readonly frames: Frame[] = [];
  private readonly waiters: ((f: Frame) => void)[] = [];

  constructor(readonly ws: WebSocket) {
    ws.addEventListener("message", (e) => {
      const frame = JSON.parse(String(e.data)) as Frame;
      const waiter = this.waiters.shift();
      if (waiter) waiter(frame);
      else this.frames.push(frame);
    });
  }

  static async connect(url: string): Promise<FrameClient> {
    return new FrameClient(await openWebSocket(url));
  }

  send(frame: Frame | string): void {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  next(timeoutMs = 10_000): Promise<Frame> {
    const queued = this.frames.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no frame within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push((f) => {
        clearTimeout(timer);
        resolve(f);
      });
    });
  }

  async request(frame: Frame | string): Promise<Frame> {
    this.send(frame);
    return this.next();
  }

  async close(): Promise<void> {
    const closed = new Promise((r) => this.ws.addEventListener("close", r, { once: true }));
    this.ws.close(1000, "done");
    await Promise.race([closed, new Promise((r) => setTimeout(r, 2_000))]);
  }
}
