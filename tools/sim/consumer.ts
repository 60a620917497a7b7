import type { SimRelay } from "./relay.ts";
import type { RunStats } from "./run-stats.ts";

const RECONNECT_MS = 500;
/**
 * A consumer pings to show the server it still reads: the server closes (1013) a consumer that was sent more
 * than 8 MiB since its last ping (docs/protocol.md, "Slow consumers"). The exact text is answered by the
 * runtime without waking the user object.
 */
const PING_EVERY_MS = 1_000;
const PING_TEXT = '{"type":"ping"}';

/**
 * One simulated consumer of a user's live stream (docs/protocol.md): counts the samples fanned out to it and measures
 * fan-out latency as the time from the relay's first send of a frame to its arrival here (both clocks are
 * this process's performance.now()).
 */
export class SimConsumer {
  private readonly url: string;
  private readonly relays: ReadonlyMap<string, SimRelay>;
  private readonly stats: RunStats;
  private socket: WebSocket | null = null;
  private closing = false;
  private opened: (() => void) | null = null;
  /** Called when a socket closed without ever opening, so that the run can find out why at once. */
  private readonly onConnectFailed: (() => void) | undefined;

  constructor(
    url: string,
    relays: ReadonlyMap<string, SimRelay>,
    stats: RunStats,
    onConnectFailed?: () => void,
  ) {
    this.url = url;
    this.relays = relays;
    this.stats = stats;
    this.onConnectFailed = onConnectFailed;
  }

  /** Connects; resolves once the socket is open (or after `timeoutMs`, the reconnects go on). */
  connect(timeoutMs: number): Promise<void> {
    const ready = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.opened = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.open();
    return ready;
  }

  close(): void {
    this.closing = true;
    this.socket?.close(1000, "simulation done");
  }

  private open(): void {
    const socket = new WebSocket(this.url);
    this.socket = socket;
    let wasOpen = false;
    let pinger: ReturnType<typeof setInterval> | undefined;
    socket.addEventListener("open", () => {
      wasOpen = true;
      pinger = setInterval(() => socket.send(PING_TEXT), PING_EVERY_MS);
      this.opened?.();
      this.opened = null;
    });
    socket.addEventListener("message", (event) => this.onMessage(event.data));
    const ended = () => {
      clearInterval(pinger);
      if (this.closing || socket !== this.socket) return;
      this.socket = null;
      if (wasOpen) this.stats.reconnects++;
      else {
        this.stats.countError("connect");
        this.onConnectFailed?.();
      }
      setTimeout(() => this.open(), RECONNECT_MS);
    };
    // After open, an error is followed by close. A refused upgrade (401, 403, ...) fires only error in Node's
    // WebSocket, never close: it is the failed connection attempt.
    socket.addEventListener("error", () => {
      if (!wasOpen) ended();
    });
    socket.addEventListener("close", ended);
  }

  private onMessage(data: unknown): void {
    if (typeof data !== "string") return;
    const receivedAt = performance.now();
    let frame: { type?: unknown; relay_id?: unknown; seq?: unknown; samples?: unknown };
    try {
      frame = JSON.parse(data);
    } catch {
      this.stats.countError("bad_server_frame");
      return;
    }
    if (frame.type !== "samples" || !Array.isArray(frame.samples)) return; // pongs among them
    this.stats.consumerFrames++;
    this.stats.consumerSamples += frame.samples.length;
    if (typeof frame.relay_id !== "string" || typeof frame.seq !== "number") return;
    const sentAt = this.relays.get(frame.relay_id)?.firstSentAt(frame.seq);
    if (sentAt !== undefined) this.stats.fanoutLatency.record(receivedAt - sentAt);
  }
}
