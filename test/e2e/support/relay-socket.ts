import type { TokenRole } from "../../../tools/lib/token.ts";
import { openStream } from "./frame-client";

export interface ReplyFrame {
  type: string;
  seq?: number;
  code?: string;
  message?: string;
}

/**
 * A relay or consumer WebSocket that speaks docs/protocol.md to a running Worker: sends frames and collects the
 * server's replies. For end-to-end tests that need exact control over what is sent (bad frames included).
 */
export class RelaySocket {
  readonly replies: ReplyFrame[] = [];
  readonly relayId: string;
  private readonly socket: WebSocket;
  private seq = 0;

  private constructor(socket: WebSocket, relayId: string, firstSeq: number) {
    this.socket = socket;
    this.relayId = relayId;
    this.seq = firstSeq - 1;
    socket.addEventListener("message", (e) => this.replies.push(JSON.parse(String(e.data)) as ReplyFrame));
  }

  static async open(options: {
    baseUrl: string;
    secret: string;
    userId: string;
    role?: TokenRole;
    relayId?: string;
    /** The seq of the first samples frame: a relay that reconnects continues its own numbering. */
    firstSeq?: number;
  }): Promise<RelaySocket> {
    const role = options.role ?? "relay";
    const socket = await openStream(options.baseUrl, options.secret, role, options.userId);
    return new RelaySocket(socket, options.relayId ?? "r1", options.firstSeq ?? 1);
  }

  /** Sends one `samples` frame of `count` samples with the next seq and waits for its ack or error frame. */
  async sendSamples(count = 1, sessionId = "s1"): Promise<ReplyFrame> {
    const seq = ++this.seq;
    const now = Date.now();
    const samples = Array.from({ length: count }, (_, i) => ({ t: now + i, ch: "hr", v: 60 + (i % 40) }));
    this.socket.send(
      JSON.stringify({ type: "samples", relay_id: this.relayId, session_id: sessionId, seq, samples }),
    );
    return this.waitFor((r) => r.seq === seq);
  }

  /** Sends raw text, e.g. a frame that is not JSON. */
  sendRaw(text: string): void {
    this.socket.send(text);
  }

  async waitFor(match: (r: ReplyFrame) => boolean, timeoutMs = 10_000): Promise<ReplyFrame> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = this.replies.find(match);
      if (found) return found;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(
      `no matching reply within ${timeoutMs} ms; replies: ${JSON.stringify(this.replies.slice(-5))}`,
    );
  }

  /** Closes cleanly (code 1000) and waits for the close handshake. */
  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    const closed = new Promise((r) => this.socket.addEventListener("close", r, { once: true }));
    this.socket.close(1000, "done");
    await closed;
  }
}
