import { DurableObject } from "cloudflare:workers";
import type { Env } from "../../../src/env";
import { acceptCeilingSocket, ackText } from "./ceiling-socket";

/**
 * Benchmark ceiling: the least a hibernating Durable Object can do per frame. It parses the frame and acks
 * it, with no validation, no storage and no fan-out, so the full pipeline's throughput can be read as a
 * fraction of what the runtime itself allows on the same machine with the same client.
 */
export class ParseAckCeiling extends DurableObject<Env> {
  override fetch(request: Request): Response {
    return acceptCeilingSocket(this.ctx, request);
  }

  override webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): void {
    const frame = JSON.parse(message as string) as { type?: string; seq?: number };
    if (frame.type === "samples") ws.send(ackText(frame.seq));
  }
}
