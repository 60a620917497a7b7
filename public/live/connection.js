// The consumer WebSocket of one user: connects with `since` for the backlog, hands every new samples frame to
// the page once (frames re-sent on resume are dropped by relay and seq), reconnects with backoff and resumes
// from the newest sample seen, and stops for good on what a reconnect cannot fix (expired or refused token).
import { probeAccess } from "./api.js";
import { redactToken } from "./redact.js";

const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 15_000;
/**
 * A ping keeps idle sockets open through proxies, and tells the server this viewer still reads (it closes a
 * consumer that was sent megabytes without one, 1013); a missing pong means a dead connection.
 */
const PING_EVERY_MS = 10_000;
const PONG_WITHIN_MS = 10_000;
/** Frames remembered for dropping duplicates after a resume (relay_id + seq). */
const SEEN_FRAMES = 20_000;

/**
 * States reported to `onState`: {kind: "connecting"|"connected"|"reconnecting"|"stopped", ...}.
 * "reconnecting" has `inMs`, `attempt`, `reason`; "stopped" has `reason` ("expired"|"refused"|"closed") and
 * `message`.
 */
export class LiveConnection {
  constructor({ userId, token, sinceMs, onFrame, onState }) {
    this.userId = userId;
    this.token = token;
    /** Resume point: the newest sample time seen (the backlog sends samples with t > since). */
    this.since = sinceMs;
    this.onFrame = onFrame;
    this.onState = onState;
    this.attempt = 0;
    this.stopped = false;
    this.seen = new Set();
    this.socket = null;
    this.timers = [];
  }

  start() {
    this.#open();
  }

  stop() {
    this.stopped = true;
    this.#clearTimers();
    this.socket?.close(1000, "viewer left");
    this.socket = null;
  }

  /** The socket URL as the page may show it: the token hidden. */
  get displayUrl() {
    return redactToken(this.#url());
  }

  #url() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    // One ms before the newest sample seen: a sample of another relay at that same ms is not lost, and the
    // frames sent again because of it are dropped as already seen.
    const since = String(Math.max(0, this.since - 1));
    const q = new URLSearchParams({ user_id: this.userId, since, token: this.token });
    return `${scheme}//${location.host}/v1/consume?${q}`;
  }

  #open() {
    this.onState({ kind: "connecting", url: this.displayUrl });
    const socket = new WebSocket(this.#url());
    this.socket = socket;
    let opened = false;
    let refusal = null;
    socket.onopen = () => {
      opened = true;
      this.attempt = 0;
      this.onState({ kind: "connected", url: this.displayUrl });
      this.#keepAlive(socket);
    };
    socket.onmessage = (event) => {
      this.lastMessageAt = Date.now();
      const frame = parseFrame(event.data);
      if (frame?.type === "samples") this.#deliver(frame);
      else if (frame?.type === "error" && frame.code === "unauthorized") {
        // docs/protocol.md: at the token's exp the server sends this, then closes 1008; the frame is the sure sign (the
        // close can arrive late, or as 1006 through a proxy).
        this.#stopWith("expired", expiredText(frame.message));
        this.#clearTimers();
        this.socket = null;
        socket.close(1000, "token expired");
      } else if (frame?.type === "error") refusal = frame;
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.#clearTimers();
      this.socket = null;
      if (this.stopped) return;
      this.#afterClose(event, opened, refusal);
    };
  }

  async #afterClose(event, opened, errorFrame) {
    // docs/protocol.md: at the token's exp the server sends an `unauthorized` error frame and closes 1008.
    if (event.code === 1008) {
      this.#stopWith("expired", expiredText(errorFrame?.message ?? event.reason));
      return;
    }
    if (event.code === 1013) {
      // Too slow a consumer: resume at once from the newest sample seen.
      this.#retry(0, "the server dropped this viewer for reading too slowly; resuming");
      return;
    }
    if (!opened) {
      // A refused handshake shows no status in a browser: ask the HTTP API with the same token.
      try {
        const refused = await probeAccess(this.userId, this.token);
        if (this.stopped) return;
        if (refused) {
          this.#stopWith("refused", `${refused.status}: ${refused.message}`);
          return;
        }
      } catch {
        // Server unreachable: retry below.
      }
    }
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** this.attempt);
    this.attempt++;
    const reason = opened
      ? `connection closed (${event.code}${event.reason ? ` ${event.reason}` : ""})`
      : "cannot connect";
    this.#retry(Math.round(delay * (0.5 + Math.random() / 2)), reason);
  }

  #retry(inMs, reason) {
    this.onState({ kind: "reconnecting", inMs, attempt: this.attempt, reason });
    this.timers.push(setTimeout(() => this.#open(), inMs));
  }

  #stopWith(reason, message) {
    this.stopped = true;
    this.onState({ kind: "stopped", reason, message });
  }

  #deliver(frame) {
    const key = `${frame.relay_id}\u0000${frame.seq}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    if (this.seen.size > SEEN_FRAMES) {
      // Sets iterate in insertion order: drop the oldest half.
      let drop = SEEN_FRAMES / 2;
      for (const k of this.seen) {
        if (drop-- <= 0) break;
        this.seen.delete(k);
      }
    }
    for (const s of frame.samples) if (s.t > this.since) this.since = s.t;
    this.onFrame(frame);
  }

  #keepAlive(socket) {
    this.timers.push(
      setInterval(() => {
        const sentAt = Date.now();
        socket.send('{"type":"ping"}');
        this.timers.push(
          setTimeout(() => {
            if ((this.lastMessageAt ?? 0) < sentAt) socket.close(4000, "no pong");
          }, PONG_WITHIN_MS),
        );
      }, PING_EVERY_MS),
    );
  }

  #clearTimers() {
    for (const t of this.timers) {
      clearTimeout(t);
      clearInterval(t);
    }
    this.timers = [];
  }
}

function expiredText(detail) {
  return `Token expired: the server ended the stream (${detail || "close code 1008"}). Mint a new consumer token and connect again.`;
}

function parseFrame(data) {
  try {
    return JSON.parse(data);
  } catch {
    return null;
  }
}
