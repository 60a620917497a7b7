/**
 * The user's sessions in the Durable Object's SQLite storage (docs/protocol.md): started explicitly or by the first
 * samples frame naming them, ended by `session_end` or after SESSION_IDLE_MS without a connected relay.
 * Every session reaches the D1 `sessions` table through the flush; an ended session whose samples are all in
 * D1 and whose last state D1 has is dropped from here.
 */

export interface Session {
  id: string;
  relayId: string;
  startedAt: number;
  endedAt: number | null;
  /** Since when no connected relay carries the session (null while one does). */
  idleSince: number | null;
  /** Samples accepted into the buffer. */
  sampleCount: number;
  /** Samples written to D1: what the D1 row's sample_count says. */
  flushedCount: number;
  /** Bumped by every change D1 must see; `syncedVersion` is the one D1 has. */
  version: number;
  syncedVersion: number;
}

/** A session's row as the flush writes it to D1, with the version it reflects. */
export interface SessionRowForD1 {
  session_id: string;
  relay_id: string;
  started_at: number;
  ended_at: number | null;
  sample_count: number;
  version: number;
}

interface SessionRow extends Record<string, SqlStorageValue> {
  session_id: string;
  relay_id: string;
  started_at: number;
  ended_at: number | null;
  idle_since: number | null;
  sample_count: number;
  flushed_count: number;
  version: number;
  synced_version: number;
}

export type OpenResult = "created" | "reopened" | "open";

export class SessionStore {
  readonly #sessions = new Map<string, Session>();

  static prepare(sql: SqlStorage): void {
    sql.exec(`CREATE TABLE IF NOT EXISTS sessions (
      session_id     TEXT    PRIMARY KEY,
      relay_id       TEXT    NOT NULL,
      started_at     INTEGER NOT NULL,
      ended_at       INTEGER,
      idle_since     INTEGER,
      sample_count   INTEGER NOT NULL DEFAULT 0,
      flushed_count  INTEGER NOT NULL DEFAULT 0,
      version        INTEGER NOT NULL DEFAULT 1,
      synced_version INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID`);
  }

  /** `buffered`: samples per session waiting in the buffer (not in D1 yet). */
  constructor(
    private readonly sql: SqlStorage,
    buffered: ReadonlyMap<string, number>,
  ) {
    for (const row of sql.exec<SessionRow>("SELECT * FROM sessions")) {
      this.#sessions.set(row.session_id, {
        id: row.session_id,
        relayId: row.relay_id,
        startedAt: row.started_at,
        endedAt: row.ended_at,
        idleSince: row.idle_since,
        // Accepted = in D1 + in the buffer: not written per commit (one row less per frame).
        sampleCount: row.flushed_count + (buffered.get(row.session_id) ?? 0),
        flushedCount: row.flushed_count,
        version: row.version,
        syncedVersion: row.synced_version,
      });
    }
  }

  /** Sessions not ended. */
  *open(): Generator<Session> {
    for (const session of this.#sessions.values()) if (session.endedAt === null) yield session;
  }

  get openCount(): number {
    let count = 0;
    for (const _ of this.open()) count++;
    return count;
  }

  /** Starts the session, or reopens it if it had ended (a relay resuming it); no-op while it is open. */
  start(id: string, relayId: string, now: number): OpenResult {
    const session = this.#sessions.get(id);
    if (!session) {
      const created: Session = {
        id,
        relayId,
        startedAt: now,
        endedAt: null,
        idleSince: null,
        sampleCount: 0,
        flushedCount: 0,
        version: 1,
        syncedVersion: 0,
      };
      this.#sessions.set(id, created);
      this.sql.exec(
        "INSERT INTO sessions (session_id, relay_id, started_at) VALUES (?, ?, ?)",
        id,
        relayId,
        now,
      );
      return "created";
    }
    if (session.endedAt === null) return "open";
    session.endedAt = null;
    session.idleSince = null;
    this.#bump(session);
    return "reopened";
  }

  /**
   * Counts accepted samples (in memory: the buffer rows are their durable record); a session receiving samples
   * is not idle (written only when it was).
   */
  addSamples(id: string, count: number): void {
    const session = this.#sessions.get(id);
    if (!session) throw new Error(`addSamples: unknown session ${id}`);
    session.sampleCount += count;
    if (session.idleSince !== null) this.setIdle(id, null);
  }

  /** Ends an open session; false when it is unknown or already ended. */
  end(id: string, now: number): boolean {
    const session = this.#sessions.get(id);
    if (!session || session.endedAt !== null) return false;
    session.endedAt = now;
    session.idleSince = null;
    this.#bump(session);
    return true;
  }

  /** Marks the session as carried by no connected relay since `since` (or carried again: null). */
  setIdle(id: string, since: number | null): void {
    const session = this.#sessions.get(id);
    if (!session || session.endedAt !== null || session.idleSince === since) return;
    session.idleSince = since;
    this.sql.exec("UPDATE sessions SET idle_since = ? WHERE session_id = ?", since, id);
  }

  /** Open sessions idle for at least `idleMs` at `now`. */
  expired(now: number, idleMs: number): Session[] {
    return [...this.open()].filter((s) => s.idleSince !== null && s.idleSince + idleMs <= now);
  }

  /** When the next idle session expires, if any. */
  nextExpiry(idleMs: number): number | null {
    let next: number | null = null;
    for (const s of this.open()) {
      if (s.idleSince !== null && (next === null || s.idleSince + idleMs < next)) next = s.idleSince + idleMs;
    }
    return next;
  }

  /**
   * Rows D1 must receive in a flush that writes `flushing` more samples per session: sessions whose state
   * changed since D1 last had it, and sessions whose sample count in D1 grows.
   */
  rowsForD1(flushing: Map<string, number>): SessionRowForD1[] {
    const rows: SessionRowForD1[] = [];
    for (const s of this.#sessions.values()) {
      const adding = flushing.get(s.id) ?? 0;
      if (adding === 0 && s.version === s.syncedVersion) continue;
      rows.push({
        session_id: s.id,
        relay_id: s.relayId,
        started_at: s.startedAt,
        ended_at: s.endedAt,
        sample_count: s.flushedCount + adding,
        version: s.version,
      });
    }
    return rows;
  }

  /** Records what D1 now has; drops ended sessions that D1 holds completely. */
  synced(rows: SessionRowForD1[]): void {
    for (const row of rows) {
      const s = this.#sessions.get(row.session_id);
      if (!s) continue;
      s.flushedCount = row.sample_count;
      s.syncedVersion = Math.max(s.syncedVersion, row.version);
      if (s.endedAt !== null && s.version === s.syncedVersion && s.flushedCount >= s.sampleCount) {
        this.#sessions.delete(s.id);
        this.sql.exec("DELETE FROM sessions WHERE session_id = ?", s.id);
      } else {
        this.sql.exec(
          "UPDATE sessions SET flushed_count = ?, synced_version = ? WHERE session_id = ?",
          s.flushedCount,
          s.syncedVersion,
          s.id,
        );
      }
    }
  }

  /** True while some session state has not reached D1. */
  get hasUnsynced(): boolean {
    for (const s of this.#sessions.values()) if (s.version !== s.syncedVersion) return true;
    return false;
  }

  /** Sessions whose state D1 does not have yet. */
  get unsyncedCount(): number {
    let count = 0;
    for (const s of this.#sessions.values()) if (s.version !== s.syncedVersion) count++;
    return count;
  }

  /** Forgets every session (the user's data is erased; D1's rows are deleted by the caller). */
  clear(): number {
    const count = this.#sessions.size;
    this.#sessions.clear();
    this.sql.exec("DELETE FROM sessions");
    return count;
  }

  #bump(session: Session): void {
    session.version++;
    this.sql.exec(
      "UPDATE sessions SET ended_at = ?, idle_since = ?, version = ? WHERE session_id = ?",
      session.endedAt,
      session.idleSince,
      session.version,
      session.id,
    );
  }
}
