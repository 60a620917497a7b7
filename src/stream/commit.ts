import { ackFrame, errorFrame, samplesFrameText } from "../protocol/frames";
import type { RowMeter } from "../storage/stream-state/row-meter";
import type { FrameToBuffer } from "../storage/stream-state/sample-buffer";
import type { ObjectStores } from "../storage/stream-state/stores";
import type { PendingOp } from "./commit-queue";
import type { FanOut } from "./fan-out";
import type { Sockets } from "./sockets";
import type { StreamMetrics } from "./stream-metrics";

/** What a commit touches: the object's storage and stores, its sockets, fan-out and metrics. */
export interface CommitParts {
  storage: DurableObjectStorage;
  stores: () => ObjectStores;
  /** Reads the stores again from storage (after a failed transaction left memory ahead of it). */
  reopenStores: () => void;
  rows: RowMeter;
  sockets: Sockets;
  fanOut: FanOut;
  metrics: StreamMetrics;
  /** Called after a batch committed: the flush deadline may have moved. */
  committed: () => void;
}

/**
 * Makes a batch of queued frames durable in ONE SQLite transaction, then acks and fans them out in arrival
 * order. The runtime's output gate holds those messages until the commit is on disk, so no ack precedes
 * durability (https://blog.cloudflare.com/durable-objects-easy-fast-correct-choose-three/).
 */
export class FrameCommitter {
  constructor(private readonly parts: CommitParts) {}

  commit(ops: PendingOp[]): void {
    const { storage, stores, metrics, rows } = this.parts;
    const now = Date.now();
    let created = 0;
    let ended = 0;
    try {
      storage.transactionSync(() => {
        const { buffer, sessions, acked } = stores();
        const frames: FrameToBuffer[] = [];
        // Session counts once per batch, not once per frame.
        const sampleCounts = new Map<string, number>();
        const viaHttp = new Set<string>();
        for (const op of ops) {
          if (op.kind === "samples") {
            const { frame } = op.parsed;
            if (sessions.start(frame.session_id, frame.relay_id, now) === "created") created++;
            frames.push(op);
            acked.committed({ relayId: frame.relay_id, seq: frame.seq, print: op.print });
            sampleCounts.set(
              frame.session_id,
              (sampleCounts.get(frame.session_id) ?? 0) + frame.samples.length,
            );
            if (op.viaHttp) viaHttp.add(frame.session_id);
          } else if (op.kind === "session_start") {
            if (sessions.start(op.frame.session_id, op.frame.relay_id, now) === "created") created++;
            sessions.setIdle(op.frame.session_id, null);
          } else if (op.kind === "session_end") {
            // Ending an unknown or already ended session is a no-op: a relay may resend it after a reconnect.
            if (sessions.end(op.frame.session_id, now)) ended++;
          }
        }
        // One buffer row for the batch's frames: a commit writes one row however many frames it holds.
        buffer.append(frames);
        for (const [sessionId, count] of sampleCounts) sessions.addSamples(sessionId, count);
        // Sessions fed over HTTP have no socket to wait for: idle from their last frame.
        const carried = viaHttp.size > 0 ? this.parts.sockets.carriedSessions() : new Set<string>();
        for (const sessionId of viaHttp) if (!carried.has(sessionId)) sessions.setIdle(sessionId, now);
      });
    } catch (err) {
      // Nothing of these frames was kept: read the state again from storage and tell the relays to resend.
      console.error("commit of queued frames failed", err);
      this.parts.reopenStores();
      for (const op of ops) {
        if (op.kind === "samples" || (op.kind === "reply" && op.frame.type === "ack")) {
          const seq = op.kind === "samples" ? op.parsed.frame.seq : op.frame.seq;
          metrics.frameRefused("samples", "internal");
          op.reply(errorFrame("internal", "storage write failed; resend the frame", seq));
        } else if (op.kind === "reply") {
          op.reply(op.frame);
        }
      }
      return;
    }
    metrics.objectRowsWritten("commit", rows.take());
    this.#answer(ops, created, ended);
  }

  /** Acks, fan-out and metrics of a committed batch; the output gate releases them once it is durable. */
  #answer(ops: PendingOp[], created: number, ended: number): void {
    const { sockets, fanOut, metrics, storage } = this.parts;
    const consumers = sockets.all("consumer");
    const now = Date.now();
    const acked: number[] = [];
    const fannedOut: number[] = [];
    let sent = 0;
    for (const op of ops) {
      if (op.kind === "samples") {
        const { frame, samplesJson } = op.parsed;
        op.reply(ackFrame(frame.seq));
        acked.push(op.receivedAt);
        if (consumers.length > 0) {
          const text = samplesFrameText(frame.relay_id, frame.session_id, frame.seq, samplesJson);
          sent += fanOut.broadcast(consumers, text, now);
          fannedOut.push(now - op.receivedAt);
        }
      } else if (op.kind === "reply") {
        op.reply(op.frame);
        if (op.frame.type === "ack") acked.push(op.receivedAt);
      } else {
        metrics.frameProcessed(op.kind);
      }
    }
    metrics.frameProcessed("samples", acked.length);
    metrics.sent("samples", sent);
    metrics.sessionsChanged(created, ended);
    metrics.latencies("samples", fannedOut);
    if (acked.length > 0) {
      // Receive to durable ack: sync() resolves once the commit above is durable (when the acks go out).
      void storage.sync().then(() => {
        const ackedAt = Date.now();
        metrics.latencies(
          "ack",
          acked.map((receivedAt) => ackedAt - receivedAt),
        );
      });
    }
    this.parts.committed();
  }
}
