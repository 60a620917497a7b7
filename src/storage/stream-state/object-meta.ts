import type { FlushEnd } from "./sample-buffer";

/**
 * Small durable facts of a user object: its user id (stored at first contact), the D1 database it flushes to
 * (once placed), its flush failure streak and the flush selection in flight.
 * Read once, then served from memory (the flush delay is asked for on every commit).
 */
export class ObjectMeta {
  #userId: string | null;
  #database: string | null;
  #flushFailures: number;
  #pendingFlush: FlushEnd | null;

  static prepare(sql: SqlStorage): void {
    sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID");
  }

  constructor(private readonly sql: SqlStorage) {
    const values = new Map(
      sql
        .exec<{ key: string; value: SqlStorageValue }>("SELECT key, value FROM meta")
        .toArray()
        .map((row) => [row.key, row.value]),
    );
    this.#userId = (values.get("user_id") as string | undefined) ?? null;
    this.#database = (values.get("database") as string | undefined) ?? null;
    this.#flushFailures = (values.get("flush_failures") as number | undefined) ?? 0;
    const pending = values.get("pending_flush") as string | undefined;
    this.#pendingFlush = pending ? (JSON.parse(pending) as FlushEnd) : null;
  }

  get userId(): string | null {
    return this.#userId;
  }

  set userId(value: string) {
    this.#set("user_id", value);
    this.#userId = value;
  }

  /** The binding name of the user's D1 database, as the directory recorded it (null: not placed yet). */
  get database(): string | null {
    return this.#database;
  }

  set database(value: string) {
    this.#set("database", value);
    this.#database = value;
  }

  /** Consecutive failed D1 flushes: drives the retry backoff across evictions. */
  get flushFailures(): number {
    return this.#flushFailures;
  }

  set flushFailures(value: number) {
    this.#set("flush_failures", value);
    this.#flushFailures = value;
  }

  /** The end of the flush selection being written to D1 (null: none): a retry writes exactly it again. */
  get pendingFlush(): FlushEnd | null {
    return this.#pendingFlush;
  }

  set pendingFlush(value: FlushEnd | null) {
    this.#set("pending_flush", value === null ? null : JSON.stringify(value));
    this.#pendingFlush = value;
  }

  #set(key: string, value: SqlStorageValue): void {
    this.sql.exec(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      key,
      value,
    );
  }
}
