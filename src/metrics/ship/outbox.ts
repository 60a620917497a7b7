import type { BatchBody, DeltaBatch } from "../wire";
import { mergeBodies } from "./merge-bodies";

export interface OutboxEntry {
  seq: number;
  shard: number;
  createdAt: number;
  body: BatchBody;
}

/**
 * Most batches an outbox holds while its shard is slow or unreachable; beyond that a new batch is merged into the
 * newest waiting one (deltas add up), so counts are never dropped and the outbox stays bounded.
 */
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
 * Two implementations differ only in where entries live: DurableOutbox (a Durable Object's SQLite: survives
 * eviction and restart) and MemoryOutbox (a Worker isolate, kept alive by `waitUntil` until it is drained).
 */
export abstract class Outbox {
  abstract readonly sender: string;
  protected entries: OutboxEntry[] = [];
  protected nextSeq = 1;

  /** Keeps a new or merged entry (and the next seq) where this outbox stores them. */
  protected abstract persist(entry: OutboxEntry): void;
  /** Forgets an entry that was delivered. */
  protected abstract forget(seq: number): void;

  size(): number {
    return this.entries.length;
  }

  /** Stores a batch for `shard` under the next seq, or, while the outbox is full, inside the newest waiting one. */
  enqueue(shard: number, body: BatchBody, now = Date.now()): void {
    // Only the oldest entry can be in flight (drain sends one at a time, oldest first): the newest is not.
    const newest = this.entries.length >= Math.max(2, OUTBOX_LIMIT) ? this.entries.at(-1) : undefined;
    if (newest && newest.shard === shard) {
      newest.body = mergeBodies(newest.body, body);
      this.persist(newest);
      return;
    }
    const entry: OutboxEntry = { seq: this.nextSeq++, shard, createdAt: now, body };
    this.persist(entry);
    this.entries.push(entry);
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
      const entry = this.entries[0] as OutboxEntry;
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
      this.forget(entry.seq);
    }
    return this.entries.length === 0;
  }
}
