import type { DeltaBatch } from "../wire";

export type BatchBody = Pick<DeltaBatch, "counters" | "histograms" | "gauges">;

interface Entry {
  seq: number;
  shard: number;
  createdAt: number;
  body: BatchBody;
}

/** Most batches an outbox holds while its shard is unreachable; beyond that the oldest are dropped (logged). */
export const OUTBOX_LIMIT = 1_000;

/**
 * Exactly-once delivery of delta batches to the MetricsShard objects.
 *
 * Each batch gets the next `seq` of this outbox's `sender` and is stored BEFORE it is sent; it leaves the outbox
 * only after the shard confirmed it. A send that timed out is retried with the same (sender, seq), and the shard
 * applies each seq of a sender once (it records the highest applied seq). Batches are sent one at a time, oldest
 * first, so seqs reach a shard in order.
 *
 * The sender id carries a random epoch created with the outbox's storage: if that storage is wiped, seqs restart
 * under a new sender id instead of being mistaken for duplicates.
 *
 * With SQLite storage (a Durable Object) the outbox survives eviction and restart; in a Worker isolate it lives in
 * memory, and `waitUntil` keeps the isolate alive until it is drained.
 */
export class Outbox {
  readonly sender: string;
  private entries: Entry[] = [];
  private nextSeq = 1;
  private readonly sql: SqlStorage | null;

  constructor(senderPrefix: string, storage?: DurableObjectStorage) {
    this.sql = storage?.sql ?? null;
    if (!this.sql) {
      this.sender = `${senderPrefix}:${crypto.randomUUID()}`;
      return;
    }
    const sql = this.sql;
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

  size(): number {
    return this.entries.length;
  }

  /** Stores a batch for `shard` under the next seq (durably, when the outbox has storage). */
  enqueue(shard: number, body: BatchBody, now = Date.now()): void {
    const entry: Entry = { seq: this.nextSeq++, shard, createdAt: now, body };
    if (this.sql) {
      const sql = this.sql;
      sql.exec(
        "INSERT INTO metrics_outbox (seq, shard, created_at, body) VALUES (?, ?, ?, ?)",
        entry.seq,
        shard,
        now,
        JSON.stringify(body),
      );
      sql.exec(
        "INSERT OR REPLACE INTO metrics_outbox_meta (key, value) VALUES ('next_seq', ?)",
        String(this.nextSeq),
      );
    }
    this.entries.push(entry);
    while (this.entries.length > OUTBOX_LIMIT) {
      const dropped = this.entries.shift() as Entry;
      this.sql?.exec("DELETE FROM metrics_outbox WHERE seq = ?", dropped.seq);
      console.error(`metrics outbox full: dropped batch ${this.sender}/${dropped.seq}`);
    }
  }

  /**
   * Sends the stored batches oldest first, at most `limit` of them; stops at the first failure and keeps it (and
   * everything after it) for the next call. Returns true when the outbox is empty.
   */
  async drain(
    send: (shard: number, batch: DeltaBatch) => Promise<void>,
    limit = Number.POSITIVE_INFINITY,
  ): Promise<boolean> {
    for (let sent = 0; this.entries.length > 0 && sent < limit; sent++) {
      const entry = this.entries[0] as Entry;
      try {
        await send(entry.shard, {
          sender: this.sender,
          seq: entry.seq,
          createdAt: entry.createdAt,
          ...entry.body,
        });
      } catch (err) {
        console.error(`metrics batch ${this.sender}/${entry.seq} not delivered, will retry`, err);
        return false;
      }
      if (this.entries[0]?.seq === entry.seq) this.entries.shift();
      this.sql?.exec("DELETE FROM metrics_outbox WHERE seq = ?", entry.seq);
    }
    return this.entries.length === 0;
  }
}
