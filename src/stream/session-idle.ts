import { jittered } from "../jitter";
import type { SessionStore } from "../storage/stream-state/sessions";
import type { Sockets } from "./sockets";

/**
 * The session rules of docs/protocol.md in one place: a session ends when its last relay has been gone for
 * SESSION_IDLE_MS (from the close, or from the alarm that notices a relay vanished without one).
 */
export class SessionIdle {
  constructor(
    private readonly sessions: () => SessionStore,
    private readonly sockets: Sockets,
    private readonly idleMs: number,
  ) {}

  /**
   * A relay socket left: its sessions that no other relay carries start their countdown. Returns when they
   * expire (null: none did), O(1) per close rather than a scan of every session.
   */
  relayLeft(closed: WebSocket, now: number): number | null {
    const uncarried = this.sockets.release(closed);
    for (const id of uncarried) this.sessions().setIdle(id, now);
    return uncarried.length > 0 ? now + jittered(this.idleMs) : null;
  }

  /**
   * On the alarm: open sessions no connected relay carries (their sockets vanished in a restart, without a
   * close event) start their countdown; those idle for SESSION_IDLE_MS end. Returns how many ended.
   */
  expire(now: number): number {
    const sessions = this.sessions();
    const carried = this.sockets.carriedSessions();
    for (const session of sessions.open()) {
      if (session.idleSince === null && !carried.has(session.id)) sessions.setIdle(session.id, now);
    }
    let ended = 0;
    for (const session of sessions.expired(now, this.idleMs)) {
      if (sessions.end(session.id, session.idleSince ?? now)) ended++;
    }
    return ended;
  }

  /** The next expiry, and a watchdog while sessions are open (it notices relays gone without a close event). */
  deadlines(now: number): (number | null)[] {
    const sessions = this.sessions();
    return [sessions.nextExpiry(this.idleMs), sessions.openCount > 0 ? now + jittered(this.idleMs) : null];
  }
}
