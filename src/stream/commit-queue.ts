import type { ReplyFrame, SessionEndFrame, SessionStartFrame } from "../protocol/frames";
import type { ParsedSamples } from "../protocol/parse-frame";

export type Reply = (frame: ReplyFrame) => void;

/** A frame waiting for the next commit, in arrival order. */
export type PendingOp =
  | {
      kind: "samples";
      parsed: ParsedSamples;
      print: number;
      receivedAt: number;
      reply: Reply;
      viaHttp: boolean;
    }
  /** An answer that must not overtake the frames queued before it: a duplicate's ack, or an error. */
  | { kind: "reply"; frame: ReplyFrame; receivedAt: number; reply: Reply }
  | { kind: "session_start"; frame: SessionStartFrame; receivedAt: number }
  | { kind: "session_end"; frame: SessionEndFrame; receivedAt: number };

/**
 * Frames wait here for ONE commit: a zero-delay timer drains the queue, so every frame that arrived while the
 * previous turn ran joins the same SQLite transaction (each commit costs ~0.3-0.5 ms on disk:
 * docs/architecture.md, "A frame's way").
 */
export class CommitQueue {
  #ops: PendingOp[] = [];
  #scheduled = false;

  constructor(private readonly commit: (ops: PendingOp[]) => void) {}

  get length(): number {
    return this.#ops.length;
  }

  push(op: PendingOp): void {
    this.#ops.push(op);
    if (this.#scheduled) return;
    this.#scheduled = true;
    // A timer, not a microtask: frames already delivered behind this one get their turn first and join the
    // same transaction (the input gate stays open: SQLite calls are synchronous, nothing is awaited).
    setTimeout(() => {
      const ops = this.#ops;
      this.#ops = [];
      this.#scheduled = false;
      this.commit(ops);
    }, 0);
  }
}
