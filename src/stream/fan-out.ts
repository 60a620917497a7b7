import { errorFrame, samplesFrameText } from "../protocol/frames";
import type { SampleBuffer } from "../storage/stream-state/sample-buffer";
import type { Sockets } from "./sockets";
import type { StreamMetrics } from "./stream-metrics";

/**
 * Bytes a consumer may be sent without a sign of life before it is closed (1013) and told to resume with
 * `since`: one consumer that does not read must not grow the object past its 128 MB
 * (https://developers.cloudflare.com/durable-objects/platform/limits/). workerd does not report a socket's
 * unsent bytes (`bufferedAmount`, cloudflare/workerd#988), so a ping from the consumer is the sign that it
 * still runs and reads; docs/protocol.md, "Slow consumers".
 */
export const MAX_CONSUMER_UNCONFIRMED_BYTES = 8 * 1024 * 1024;
export const SLOW_CONSUMER_CLOSE = { code: 1013, reason: "consumer too slow: reconnect with since" } as const;
export const EXPIRED_CLOSE = { code: 1008, reason: "token expired" } as const;

/** Live `samples` frames and the `since` backlog to the user's consumers (docs/protocol.md). */
export class FanOut {
  /** Per consumer: bytes sent since its last sign of life, and when that was (epoch ms). */
  readonly #unconfirmed = new WeakMap<WebSocket, { bytes: number; since: number }>();

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly sockets: Sockets,
    private readonly metrics: StreamMetrics,
  ) {}

  /** The consumer sent a frame: it is alive and reading. */
  heardFrom(ws: WebSocket, now: number): void {
    this.#unconfirmed.set(ws, { bytes: 0, since: now });
  }

  /** Sends one accepted frame to every consumer; returns how many got it. */
  broadcast(consumers: WebSocket[], text: string, now: number): number {
    let sent = 0;
    for (const ws of consumers) if (this.#send(ws, text, now)) sent++;
    return sent;
  }

  /** Buffered samples newer than `sinceMs`, in acceptance order, before any live frame. */
  backlog(ws: WebSocket, buffer: SampleBuffer, sinceMs: number): void {
    let sent = 0;
    const now = Date.now();
    for (const f of buffer.newerThan(sinceMs)) {
      if (!this.#send(ws, samplesFrameText(f.relayId, f.sessionId, f.seq, f.samplesJson), now)) break;
      sent++;
    }
    this.metrics.sent("samples", sent);
  }

  /** Closes a socket whose token expired, with the `unauthorized` frame first (docs/protocol.md). */
  expire(ws: WebSocket, seq?: number): void {
    const frame = errorFrame("unauthorized", "token expired: reconnect with a new token", seq);
    if (this.sockets.trySend(ws, JSON.stringify(frame))) this.metrics.sent("error");
    this.metrics.socketDropped("token_expired");
    this.sockets.close(ws, EXPIRED_CLOSE.code, EXPIRED_CLOSE.reason);
  }

  #send(ws: WebSocket, text: string, now: number): boolean {
    if (ws.readyState !== WebSocket.OPEN) return false;
    if (this.sockets.expired(ws, now)) {
      this.expire(ws);
      return false;
    }
    if (this.#unconfirmedBytes(ws, now) + text.length > MAX_CONSUMER_UNCONFIRMED_BYTES) {
      this.sockets.close(ws, SLOW_CONSUMER_CLOSE.code, SLOW_CONSUMER_CLOSE.reason);
      this.metrics.socketDropped("slow_consumer");
      return false;
    }
    if (!this.sockets.trySend(ws, text)) return false;
    const entry = this.#unconfirmed.get(ws);
    if (entry) entry.bytes += text.length;
    return true;
  }

  /** What the runtime reports as unsent where it does, else the bytes sent since the consumer last pinged. */
  #unconfirmedBytes(ws: WebSocket, now: number): number {
    if (typeof ws.bufferedAmount === "number") return ws.bufferedAmount;
    const pingedAt = this.ctx.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? 0;
    const entry = this.#unconfirmed.get(ws);
    if (!entry || pingedAt > entry.since) {
      // First send since a wake-up (nothing was sent while hibernated), or a ping since the last check.
      this.#unconfirmed.set(ws, { bytes: 0, since: Math.max(pingedAt, entry ? entry.since : now) });
      return 0;
    }
    return entry.bytes;
  }
}
