/**
 * The user object's WebSockets (hibernatable) and what each one carries. Per-socket state lives in the
 * socket's attachment so that it survives hibernation (16 KiB at most:
 * https://developers.cloudflare.com/durable-objects/best-practices/websockets/); the id lists are bounded.
 */

export type SocketRole = "relay" | "consumer";

export interface SocketState {
  role: SocketRole;
  /** Token expiry (epoch seconds): at that moment the socket is closed (SPEC §3). */
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
    if (newSession) state.sessions = [...state.sessions, sessionId].slice(-MAX_IDS_PER_SOCKET);
    if (newRelay || newSession) ws.serializeAttachment(state);
    return newRelay;
  }

  /** Session ids carried by the open relay sockets (other than `except`). */
  carriedSessions(except?: WebSocket): Set<string> {
    const carried = new Set<string>();
    for (const ws of this.all("relay")) {
      if (ws === except || ws.readyState !== WebSocket.OPEN) continue;
      for (const id of this.state(ws).sessions) carried.add(id);
    }
    return carried;
  }

  /** Whether the socket's token has expired at `now` (epoch ms). */
  expired(ws: WebSocket, now: number): boolean {
    return this.state(ws).exp * 1000 <= now;
  }

  /** The earliest token expiry among open sockets (epoch ms), or null. */
  nextExpiry(): number | null {
    let next: number | null = null;
    for (const ws of this.ctx.getWebSockets()) {
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
