import { recordFrame, type UserLedger } from "./loss-check.ts";
import type { Pacer } from "./pacer.ts";
import type { RunStats } from "./run-stats.ts";
import { sampleValue } from "./sample-identity.ts";

export interface RelayConfig {
  /** ws(s) URL including user_id and token. */
  url: string;
  relayId: string;
  sessionId: string;
  /** Frames to send instead of generated ones (a replay); samplesPerFrame, maxFrames and pacer are then unused. */
  frames?: FrameSource;
  samplesPerFrame: number;
  /** Each generated sample padded to about this many bytes with an extra field (0: not padded). */
  sampleBytes: number;
  /** Unacked frames in flight. */
  window: number;
  /** Frames this relay creates at most (null: until stopped). */
  maxFrames: number | null;
  pacer: Pacer;
  stats: RunStats;
  /** The user's ledger: the relay records every frame's outcome under its own channel. */
  ledger: UserLedger;
  /** Called when a socket closed without ever opening, so that the run can find out why at once. */
  onConnectFailed?: () => void;
}

/** Where a replay's frames come from (generated frames need none). */
export interface FrameSource {
  /**
   * The frame to send now under `seq`: its samples as JSON objects joined by commas (the inside of the
   * `samples` array), or null when none is due yet.
   */
  next(now: number, seq: number): { samplesJson: string; samples: number } | null;
  /** False once the source has handed out its last frame. */
  readonly more: boolean;
}

interface PendingFrame {
  /** Identity of the frame's samples (the seq it was first sent with): what the loss check counts. */
  content: number;
  text: string;
  samples: number;
  /** The samples of a frame from a FrameSource; generated frames are written at each send. */
  samplesJson?: string;
  firstSentAt: number;
}

/** Slots for first-send times by seq, read by consumers to measure fan-out latency. */
const SENT_AT_SLOTS = 1 << 16;
const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 2_000;

/** Error codes after which the frame is sent again (with its seq); any other error is final. */
const RETRIED_CODES = new Set(["buffer_full", "internal"]);
const INTERNAL_RETRY_MS = 100;

/**
 * One simulated edge relay (docs/protocol.md): sends `samples` frames with increasing seq over one WebSocket, keeps at
 * most `window` unanswered, and resends every unacked frame with its seq after a reconnect (the server acks a
 * seq it already has without storing it twice).
 *
 * A frame refused with buffer_full (or internal) is sent again with its seq after `retry_after_ms`, whatever was
 * acked meanwhile: the server stores any seq it never acked, in any order (docs/protocol.md, "Acks and
 * duplicates").
 */
export class SimRelay {
  readonly config: RelayConfig;
  private socket: WebSocket | null = null;
  private everConnected = false;
  private openedSocket: WebSocket | null = null;
  private nextSeq = 1;
  private created = 0;
  /** Frames of this relay acked so far (the run's fairness: min and max over relays). */
  framesAcked = 0;
  /** Unacked frames by seq; Map iteration order is seq order. */
  private readonly pending = new Map<number, PendingFrame>();
  /** Refused frames waiting for their retry, with their timers. */
  private readonly waiting = new Map<PendingFrame, ReturnType<typeof setTimeout>>();
  private readonly sentAt = new Float64Array(SENT_AT_SLOTS);
  private reconnectDelay = RECONNECT_MIN_MS;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  /** False until start(), and again from drain() on. */
  private creating = false;
  private closing = false;
  private drained: (() => void) | null = null;
  private firstOpen: (() => void) | null = null;

  constructor(config: RelayConfig) {
    this.config = config;
  }

  /** When the frame of this seq was first sent (performance.now()), or undefined. */
  firstSentAt(seq: number): number | undefined {
    const at = this.sentAt[seq % SENT_AT_SLOTS];
    return at ? at : undefined;
  }

  /** Connects (retrying with backoff); resolves true once open, false if not open within `timeoutMs`. */
  connect(timeoutMs: number): Promise<boolean> {
    const opened = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.firstOpen = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
    this.open();
    return opened;
  }

  /** Starts creating frames (the run's clock starts once every relay is connected). */
  start(): void {
    this.creating = true;
    this.pump();
  }

  private open(): void {
    const socket = new WebSocket(this.config.url);
    this.socket = socket;
    socket.addEventListener("open", () => this.onOpen(socket));
    socket.addEventListener("message", (event) => this.onMessage(event.data));
    socket.addEventListener("close", () => this.onClose(socket));
    // After open, an error is followed by close, which reconnects. A refused upgrade (401, 403, ...) fires
    // only error in Node's WebSocket, never close: it is the failed connection attempt.
    socket.addEventListener("error", () => {
      if (this.openedSocket !== socket) this.onClose(socket);
    });
  }

  /** Creates and sends frames while the window, the frame limit and the pacer (or the frame source) allow. */
  pump(): void {
    const { window, pacer, samplesPerFrame, frames } = this.config;
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    while (this.active && this.pending.size + this.waiting.size < window) {
      const now = performance.now();
      // A replay's frames come when the recording says so; generated ones when the pacer allows.
      const given = frames ? frames.next(now, this.nextSeq) : null;
      const due = frames ? given !== null : pacer.take(now, samplesPerFrame);
      if (!due) return;
      this.created++;
      const seq = this.nextSeq++;
      const frame: PendingFrame = {
        content: seq,
        text: "",
        samples: given ? given.samples : samplesPerFrame,
        samplesJson: given?.samplesJson,
        firstSentAt: now,
      };
      this.config.stats.framesSent++;
      this.config.stats.unacked++;
      this.send(socket, seq, frame);
    }
  }

  /** Sends `frame` under `seq` (the seq it was created with: `content`). */
  private send(socket: WebSocket | null, seq: number, frame: PendingFrame): void {
    frame.text = this.frameText(seq, frame.content, frame.samplesJson);
    this.pending.set(seq, frame);
    this.sentAt[seq % SENT_AT_SLOTS] = frame.firstSentAt;
    if (socket?.readyState === WebSocket.OPEN) socket.send(frame.text); // else the reconnect sends it
  }

  /** True while the relay may still create frames (stop() not called, frame limit not reached). */
  get active(): boolean {
    const { frames, maxFrames } = this.config;
    if (frames) return this.creating && frames.more;
    return this.creating && (maxFrames === null || this.created < maxFrames);
  }

  /** Stops creating frames; resolves once every sent frame was answered or `timeoutMs` passed. */
  async drain(timeoutMs: number): Promise<void> {
    this.creating = false;
    if (this.pending.size + this.waiting.size === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.drained = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.drained = null;
  }

  /** Ends the session, closes the socket and books frames still unanswered as unconfirmed. */
  close(): void {
    this.closing = true;
    this.creating = false;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const unanswered = [...this.pending.values(), ...this.waiting.keys()];
    for (const frame of unanswered) {
      recordFrame(this.config.ledger.unconfirmed, this.config.relayId, frame.content, frame.samples);
    }
    for (const timer of this.waiting.values()) clearTimeout(timer);
    this.config.stats.unacked -= unanswered.length;
    this.pending.clear();
    this.waiting.clear();
    const socket = this.socket;
    if (socket?.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ type: "session_end", session_id: this.config.sessionId }));
      socket.close(1000, "simulation done");
    } else {
      socket?.close();
    }
  }

  private frameText(seq: number, content: number, given: string | undefined): string {
    const { relayId, sessionId, samplesPerFrame, sampleBytes } = this.config;
    // Built by hand rather than JSON.stringify: the ids are [A-Za-z0-9_.-] (nothing to escape), and the
    // client's own CPU cost must stay small next to the server's on a shared machine.
    // Samples 1 ms apart, the last one now: a 1 kHz sensor (and few rows share a `t` for the read-back).
    let samples = given ?? "";
    if (given === undefined) {
      const t0 = Date.now() - samplesPerFrame + 1;
      const plain = `{"t":${t0},"ch":"${relayId}","v":${sampleValue(content, 0)}}`.length;
      const pad = sampleBytes > plain + 9 ? `,"pad":"${"x".repeat(sampleBytes - plain - 9)}"` : "";
      for (let idx = 0; idx < samplesPerFrame; idx++) {
        samples += `${idx ? "," : ""}{"t":${t0 + idx},"ch":"${relayId}","v":${sampleValue(content, idx)}${pad}}`;
      }
    }
    return `{"type":"samples","relay_id":"${relayId}","session_id":"${sessionId}","seq":${seq},"samples":[${samples}]}`;
  }

  private onOpen(socket: WebSocket): void {
    if (socket !== this.socket) return;
    this.reconnectDelay = RECONNECT_MIN_MS;
    this.openedSocket = socket;
    if (this.everConnected) {
      this.config.stats.reconnects++;
    } else {
      this.everConnected = true;
      this.firstOpen?.();
      this.firstOpen = null;
      socket.send(
        JSON.stringify({
          type: "session_start",
          session_id: this.config.sessionId,
          relay_id: this.config.relayId,
        }),
      );
    }
    for (const frame of this.pending.values()) {
      this.config.stats.resends++;
      socket.send(frame.text);
    }
    this.pump();
  }

  private onMessage(data: unknown): void {
    if (typeof data !== "string") return;
    let message: { type?: unknown; seq?: unknown; code?: unknown; retry_after_ms?: unknown };
    try {
      message = JSON.parse(data);
    } catch {
      this.config.stats.countError("bad_server_frame");
      return;
    }
    const { stats, ledger, relayId } = this.config;
    if (message.type === "ack" && typeof message.seq === "number") {
      const frame = this.pending.get(message.seq);
      if (!frame) return; // the ack of a frame resent after a reconnect, already counted
      this.pending.delete(message.seq);
      stats.unacked--;
      stats.framesAcked++;
      this.framesAcked++;
      stats.samplesAcked += frame.samples;
      stats.ackLatency.record(performance.now() - frame.firstSentAt);
      recordFrame(ledger.acked, relayId, frame.content, frame.samples);
    } else if (message.type === "error") {
      const code = typeof message.code === "string" ? message.code : "unknown";
      stats.countError(code);
      const seq = typeof message.seq === "number" ? message.seq : undefined;
      const frame = seq === undefined ? undefined : this.pending.get(seq);
      if (seq === undefined || !frame) return;
      this.pending.delete(seq);
      if (RETRIED_CODES.has(code)) {
        const wait = typeof message.retry_after_ms === "number" ? message.retry_after_ms : INTERNAL_RETRY_MS;
        this.waiting.set(
          frame,
          setTimeout(() => this.retry(frame), Math.max(1, wait)),
        );
        return;
      }
      stats.unacked--;
      recordFrame(ledger.rejected, relayId, frame.content, frame.samples);
    } else {
      return; // pong and anything else a relay does not act on
    }
    this.pump();
    if (this.pending.size + this.waiting.size === 0) this.drained?.();
  }

  private retry(frame: PendingFrame): void {
    if (!this.waiting.delete(frame)) return;
    this.config.stats.resends++;
    this.send(this.socket, frame.content, frame);
  }

  private onClose(socket: WebSocket): void {
    if (socket !== this.socket) return;
    this.socket = null;
    if (this.closing) return;
    // A socket that never opened is a failed connection attempt (refused, 4xx on the upgrade, ...).
    if (this.openedSocket !== socket) {
      this.config.stats.countError("connect");
      this.config.onConnectFailed?.();
    }
    this.reconnectTimer = setTimeout(() => this.open(), this.reconnectDelay);
    this.reconnectDelay = Math.min(RECONNECT_MAX_MS, this.reconnectDelay * 2);
  }
}
