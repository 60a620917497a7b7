import type { Config } from "../config";
import { framePrint } from "../protocol/frame-print";
import { ackFrame, type ErrorFrame, errorFrame, PONG_TEXT, type ReplyFrame } from "../protocol/frames";
import { type ParsedSamples, parseClientFrame } from "../protocol/parse-frame";
import type { AckedSeqs } from "../storage/stream-state/acked-seqs";
import type { Admission } from "./admission";
import type { CommitQueue, Reply } from "./commit-queue";
import type { FanOut } from "./fan-out";
import type { Sockets } from "./sockets";
import type { StreamMetrics } from "./stream-metrics";

/** What the intake hands frames to. */
export interface IntakeParts {
  config: Config;
  sockets: Sockets;
  admission: Admission;
  queue: CommitQueue;
  fanOut: FanOut;
  metrics: StreamMetrics;
  acked: () => AckedSeqs;
}

/**
 * Every message a socket sends, and every POSTed frame, in arrival order: refused early from its head under
 * backpressure, parsed, checked against the socket's role and token, admitted (dedup, capacity) and queued for
 * the next commit, or answered at once. Answers never overtake those of frames queued before them.
 */
export class FrameIntake {
  constructor(private readonly parts: IntakeParts) {}

  message(ws: WebSocket, message: string | ArrayBuffer): void {
    const { sockets, admission, metrics, fanOut, queue, config } = this.parts;
    const receivedAt = Date.now();
    const reply: Reply = (frame) => this.#send(ws, frame);
    const state = sockets.state(ws);
    if (state.role === "relay" && typeof message === "string") {
      const early = admission.refuseUnparsed(message, receivedAt);
      if (early) {
        metrics.frameReceived("samples", true);
        this.#refuse("samples", early, reply);
        return;
      }
    }
    const parsed = parseClientFrame(message, config);
    const type = parsed.ok ? parsed.frame.type : parsed.type;
    metrics.frameReceived(type, true);
    const seq = parsed.ok ? parsed.samples?.frame.seq : undefined;
    if (state.role === "consumer") fanOut.heardFrom(ws, receivedAt);
    if (!parsed.ok) {
      this.#refuse(type, parsed.error, reply);
    } else if (parsed.frame.type === "ping") {
      // A ping with other spacing than the auto-response's exact text reaches the object.
      if (sockets.trySend(ws, PONG_TEXT)) metrics.sent("pong");
      metrics.frameProcessed("ping");
    } else if (state.role === "consumer") {
      this.#refuse(type, errorFrame("invalid", "type: a consumer sends only ping", seq), reply);
    } else if (sockets.expired(ws, receivedAt)) {
      metrics.frameRefused(type, "unauthorized");
      fanOut.expire(ws, seq);
    } else if (parsed.samples) {
      this.#carry(ws, parsed.samples.frame.relay_id, parsed.samples.frame.session_id);
      this.#admit(parsed.samples, receivedAt, reply, false);
    } else if (parsed.frame.type === "session_start") {
      this.#carry(ws, parsed.frame.relay_id, parsed.frame.session_id);
      queue.push({ kind: "session_start", frame: parsed.frame, receivedAt });
    } else if (parsed.frame.type === "session_end") {
      queue.push({ kind: "session_end", frame: parsed.frame, receivedAt });
    }
  }

  /** A `samples` frame POSTed over HTTP (parsed by the Worker): answered with the frame a socket would get. */
  posted(parsed: ParsedSamples): Promise<ReplyFrame> {
    this.parts.metrics.frameReceived("samples", false);
    return new Promise<ReplyFrame>((resolve) => this.#admit(parsed, Date.now(), resolve, true));
  }

  #admit(parsed: ParsedSamples, receivedAt: number, reply: Reply, viaHttp: boolean): void {
    const print = framePrint(parsed.frame.session_id, parsed.samplesJson);
    const decision = this.parts.admission.admit(parsed, print, receivedAt);
    if (decision.kind === "refuse") this.#refuse("samples", decision.error, reply);
    else if (decision.kind === "duplicate") {
      this.parts.queue.push({ kind: "reply", frame: ackFrame(parsed.frame.seq), receivedAt, reply });
    } else this.parts.queue.push({ kind: "samples", parsed, print, receivedAt, reply, viaHttp });
  }

  /** Answers with an error, after the answers of the frames queued before it (answers stay in order). */
  #refuse(type: string, error: ErrorFrame, reply: Reply): void {
    this.parts.metrics.frameRefused(type, error.code);
    if (this.parts.queue.length > 0)
      this.parts.queue.push({ kind: "reply", frame: error, receivedAt: Date.now(), reply });
    else reply(error);
  }

  #send(ws: WebSocket, frame: ReplyFrame): void {
    if (this.parts.sockets.trySend(ws, JSON.stringify(frame))) this.parts.metrics.sent(frame.type);
  }

  /** Remembers what the socket carries; a relay known from before on a new socket is a reconnection. */
  #carry(ws: WebSocket, relayId: string, sessionId: string): void {
    if (this.parts.sockets.carry(ws, relayId, sessionId) && this.parts.acked().knows(relayId)) {
      this.parts.metrics.relayResumed();
    }
  }
}
