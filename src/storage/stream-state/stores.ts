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

/**
 * Bump when a store's `prepare` changes: an object whose tables were prepared by an earlier release prepares
 * them again, once. An object of this release reads one row to know its tables are ready, where preparing them
 * took a dozen statements per wake-up (BENCHMARKS.md, "Where per-user cost goes").
 */
export const STREAM_STATE_SCHEMA = 2;

/** Opens (or reopens, dropping in-memory state after a failed transaction) the object's stores. */
export function openStores(sql: SqlStorage): ObjectStores {
  prepareTables(sql);
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

/** Creates or upgrades the stores' tables unless this release already did. */
function prepareTables(sql: SqlStorage): void {
  const tables = new Set(
    sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
      .toArray()
      .map((r) => r.name),
  );
  if (tables.has("meta")) {
    const [row] = sql.exec<{ value: number }>("SELECT value FROM meta WHERE key = 'schema'").toArray();
    if (row?.value === STREAM_STATE_SCHEMA) return;
  }
  // A new object has nothing to upgrade: it only creates.
  const fresh = !["buffer", "buffer_commits", "relays", "acked_ranges", "sessions"].some((t) =>
    tables.has(t),
  );
  ObjectMeta.prepare(sql);
  AckedSeqs.prepare(sql, fresh);
  SessionStore.prepare(sql);
  SampleBuffer.prepare(sql, tables.has("buffer"));
  sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema', ?)", STREAM_STATE_SCHEMA);
}
