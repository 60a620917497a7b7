import { errorFrame, samplesFrameText } from "../protocol/frames";
import type { SampleBuffer } from "../storage/object/sample-buffer";
import type { Sockets } from "./sockets";
import type { StreamMetrics } from "./stream-metrics";

/**
 * Unsent bytes a consumer may have queued before it is closed (1013) and told to resume with `since`: one
 * consumer that does not read must not grow the object past its 128 MB
 * (https://developers.cloudflare.com/durable-objects/platform/limits/).
 */
export const MAX_CONSUMER_BACKLOG_BYTES = 4 * 1024 * 1024;
export const SLOW_CONSUMER_CLOSE = { code: 1013, reason: "consumer too slow: reconnect with since" } as const;
export const EXPIRED_CLOSE = { code: 1008, reason: "token expired" } as const;

/** Live `samples` frames and the `since` backlog to the user's consumers (SPEC §3). */
export class FanOut {
  constructor(
    private readonly sockets: Sockets,
    private readonly metrics: StreamMetrics,
  ) {}

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

  /** Closes a socket whose token expired, with the `unauthorized` frame first (SPEC §3). */
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
    if (ws.bufferedAmount + text.length > MAX_CONSUMER_BACKLOG_BYTES) {
      this.sockets.close(ws, SLOW_CONSUMER_CLOSE.code, SLOW_CONSUMER_CLOSE.reason);
      this.metrics.socketDropped("slow_consumer");
      return false;
    }
    return this.sockets.trySend(ws, text);
  }
}
