import type { SessionStore } from "../storage/stream-state/sessions";

/**
 * Open sessions that no connected relay carries start their SESSION_IDLE_MS countdown at `now` (docs/protocol.md: a
 * session ends when its last relay disconnects and does not come back in time).
 */
export function markUncarriedIdle(sessions: SessionStore, carried: Set<string>, now: number): void {
  for (const session of sessions.open()) {
    if (session.idleSince === null && !carried.has(session.id)) sessions.setIdle(session.id, now);
  }
}

/** Ends the sessions idle for SESSION_IDLE_MS, as of when their last relay left; returns how many ended. */
export function endExpiredSessions(sessions: SessionStore, idleMs: number, now: number): number {
  let ended = 0;
  for (const session of sessions.expired(now, idleMs)) {
    if (sessions.end(session.id, session.idleSince ?? now)) ended++;
  }
  return ended;
}
