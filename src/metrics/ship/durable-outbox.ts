import { Outbox, type OutboxEntry } from "./outbox";

/**
 * An outbox in a Durable Object's SQLite: entries, the next seq and the sender epoch survive eviction and
 * restart, so batches recorded before a restart are still delivered exactly once after it.
 */
export class DurableOutbox extends Outbox {
  readonly sender: string;
  private readonly sql: SqlStorage;

  constructor(senderPrefix: string, storage: DurableObjectStorage) {
    super();
    const sql = storage.sql;
    this.sql = sql;
    sql.exec(
      `CREATE TABLE IF NOT EXISTS metrics_outbox (seq INTEGER PRIMARY KEY, shard INTEGER NOT NULL,
         created_at INTEGER NOT NULL, body TEXT NOT NULL);
       CREATE TABLE IF NOT EXISTS metrics_outbox_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
    );
    const meta = new Map(
      sql
        .exec<{ key: string; value: string }>("SELECT key, value FROM metrics_outbox_meta")
        .toArray()
        .map((r) => [r.key, r.value]),
    );
    let epoch = meta.get("epoch");
    if (!epoch) {
      epoch = crypto.randomUUID();
      sql.exec("INSERT OR REPLACE INTO metrics_outbox_meta (key, value) VALUES ('epoch', ?)", epoch);
    }
    this.sender = `${senderPrefix}:${epoch}`;
    this.nextSeq = Number(meta.get("next_seq") ?? 1);
    this.entries = sql
      .exec<{ seq: number; shard: number; created_at: number; body: string }>(
        "SELECT seq, shard, created_at, body FROM metrics_outbox ORDER BY seq",
      )
      .toArray()
      .map((r) => ({ seq: r.seq, shard: r.shard, createdAt: r.created_at, body: JSON.parse(r.body) }));
  }

  protected persist(entry: OutboxEntry): void {
    this.sql.exec(
      "INSERT INTO metrics_outbox (seq, shard, created_at, body) VALUES (?, ?, ?, ?)",
      entry.seq,
      entry.shard,
      entry.createdAt,
      JSON.stringify(entry.body),
    );
    this.sql.exec(
      "INSERT OR REPLACE INTO metrics_outbox_meta (key, value) VALUES ('next_seq', ?)",
      String(this.nextSeq),
    );
  }

  protected forget(seq: number): void {
    this.sql.exec("DELETE FROM metrics_outbox WHERE seq = ?", seq);
  }
}
