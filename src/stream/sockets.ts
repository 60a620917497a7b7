/**
 * The user object's WebSockets (hibernatable) and what each one carries. Per-socket state lives in the
 * socket's attachment so that it survives hibernation (16 KiB at most:
 * https://developers.cloudflare.com/durable-objects/best-practices/websockets/); the id lists are bounded.
 */

export type SocketRole = "relay" | "consumer";

export interface SocketState {
  role: SocketRole;
  /** Token expiry (epoch seconds): at that moment the socket is closed (docs/protocol.md). */
  exp: number;
  /** Relay ids and session ids this socket has sent frames for (most recent last). */
  relays: string[];
  sessions: string[];
}

const MAX_IDS_PER_SOCKET = 32;

/** Close codes a peer may send but no endpoint may send back (RFC 6455 §7.4.1): answered with 1000. */
const UNSENDABLE_CLOSE_CODES = new Set([1005, 1006, 1015]);

export class Sockets {
  readonly #states = new WeakMap<WebSocket, SocketState>();
  /**
   * Session id → open relay sockets carrying it, built once per instance from the attachments and kept up to
   * date, so a close costs its own sessions, not a scan of every socket (4,000 relays dropping at once were
   * quadratic). `#counted`: the sockets whose sessions are in it (a close and an error may both arrive).
   */
  #carriers: Map<string, number> | null = null;
  readonly #counted = new WeakSet<WebSocket>();
  readonly #released = new WeakSet<WebSocket>();

  constructor(private readonly ctx: DurableObjectState) {}

  /** Accepts an authenticated upgrade as a hibernatable socket of `role`: the client end goes in the 101. */
  accept(role: SocketRole, exp: number): { client: WebSocket; server: WebSocket } {
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server, [role]);
    const state: SocketState = { role, exp, relays: [], sessions: [] };
    server.serializeAttachment(state);
    this.#states.set(server, state);
    return { client, server };
  }

  all(role: SocketRole): WebSocket[] {
    return this.ctx.getWebSockets(role);
  }

  /** Whether any socket, relay or consumer, is still open (a closing one is not). */
  anyOpen(): boolean {
    return this.ctx.getWebSockets().some((ws) => ws.readyState === WebSocket.OPEN);
  }

  /** The socket's state: cached per instance, read from the attachment after hibernation. */
  state(ws: WebSocket): SocketState {
    let state = this.#states.get(ws);
    if (!state) {
      state = ws.deserializeAttachment() as SocketState;
      this.#states.set(ws, state);
    }
    return state;
  }

  /** Remembers a relay and session the socket carries; true when the relay id is new on this socket. */
  carry(ws: WebSocket, relayId: string, sessionId: string): boolean {
    const state = this.state(ws);
    const newRelay = !state.relays.includes(relayId);
    const newSession = !state.sessions.includes(sessionId);
    if (newRelay) state.relays = [...state.relays, relayId].slice(-MAX_IDS_PER_SOCKET);
    if (newSession) {
      const before = state.sessions;
      state.sessions = [...before, sessionId].slice(-MAX_IDS_PER_SOCKET);
      if (this.#carriers && ws.readyState === WebSocket.OPEN) {
        if (!this.#counted.has(ws)) {
          // Counted from now on: its earlier sessions were not in the index yet.
          this.#counted.add(ws);
          for (const id of before) this.#count(id, 1);
        }
        this.#count(sessionId, 1);
        for (const dropped of before.filter((id) => !state.sessions.includes(id))) this.#count(dropped, -1);
      }
    }
    if (newRelay || newSession) ws.serializeAttachment(state);
    return newRelay;
  }

  /** A relay socket closed or failed: its sessions that no other open relay socket carries (once per socket). */
  release(ws: WebSocket): string[] {
    const carriers = this.#index();
    if (this.#released.has(ws)) return [];
    this.#released.add(ws);
    // Not counted (already closing when the index was built, e.g. after hibernation): nothing to take back.
    if (!this.#counted.has(ws)) return this.state(ws).sessions.filter((id) => !carriers.has(id));
    this.#counted.delete(ws);
    return this.state(ws).sessions.filter((id) => this.#count(id, -1) === 0);
  }

  /** Session ids carried by the open relay sockets. */
  carriedSessions(): Set<string> {
    return new Set(this.#index().keys());
  }

  #index(): Map<string, number> {
    if (!this.#carriers) {
      this.#carriers = new Map();
      for (const ws of this.all("relay")) {
        if (ws.readyState !== WebSocket.OPEN) continue;
        this.#counted.add(ws);
        for (const id of this.state(ws).sessions) this.#count(id, 1);
      }
    }
    return this.#carriers;
  }

  #count(id: string, delta: number): number {
    const carriers = this.#carriers as Map<string, number>;
    const n = (carriers.get(id) ?? 0) + delta;
    if (n > 0) carriers.set(id, n);
    else carriers.delete(id);
    return Math.max(0, n);
  }

  /** Whether the socket's token has expired at `now` (epoch ms). */
  expired(ws: WebSocket, now: number): boolean {
    return this.state(ws).exp * 1000 <= now;
  }

  /** The OPEN sockets whose token has expired at `now`: they get `unauthorized` and close (docs/protocol.md). */
  expiredOpen(now: number): WebSocket[] {
    return this.ctx.getWebSockets().filter((ws) => ws.readyState === WebSocket.OPEN && this.expired(ws, now));
  }

  /**
   * The earliest token expiry among OPEN sockets (epoch ms), or null. A socket already told and closing is not
   * counted: its past expiry would re-arm the alarm at once, again and again, while its TCP connection lingers.
   */
  nextExpiry(): number | null {
    let next: number | null = null;
    for (const ws of this.ctx.getWebSockets()) {
      if (ws.readyState !== WebSocket.OPEN) continue;
      const at = this.state(ws).exp * 1000;
      if (next === null || at < next) next = at;
    }
    return next;
  }

  /** Sends text; false if the socket is gone (its close event does the bookkeeping). */
  trySend(ws: WebSocket, text: string): boolean {
    try {
      ws.send(text);
      return true;
    } catch {
      return false;
    }
  }

  /** Closes without throwing; a code that cannot be sent back (1005: none given) becomes 1000. */
  close(ws: WebSocket, code: number, reason: string): void {
    try {
      ws.close(UNSENDABLE_CLOSE_CODES.has(code) ? 1000 : code, reason);
    } catch {
      // already closed
    }
  }
}
