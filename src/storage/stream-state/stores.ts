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
  return {
    meta: new ObjectMeta(sql),
    buffer: new SampleBuffer(sql),
    acked: new AckedSeqs(sql),
    sessions: new SessionStore(sql),
  };
}
