import { AckedSeqs } from "./acked-seqs";
import { ObjectMeta } from "./object-meta";
import { SampleBuffer } from "./sample-buffer";
import { SessionStore } from "./sessions";

/** Everything a user object keeps in its own SQLite storage; each store caches its table in memory. */
export interface ObjectStores {
  meta: ObjectMeta;
  buffer: SampleBuffer;
  acked: AckedSeqs;
  sessions: SessionStore;
}

/** Opens (or reopens, dropping in-memory state after a failed transaction) the object's stores. */
export function openStores(sql: SqlStorage): ObjectStores {
  const buffer = new SampleBuffer(sql);
  const frames = [...buffer.frames()];
  const bufferedPerSession = new Map<string, number>();
  for (const { sessionId, pending } of frames) {
    bufferedPerSession.set(sessionId, (bufferedPerSession.get(sessionId) ?? 0) + pending);
  }
  return {
    meta: new ObjectMeta(sql),
    buffer,
    acked: new AckedSeqs(sql, frames),
    sessions: new SessionStore(sql, bufferedPerSession),
  };
}
