import type { Config } from "../config";
import { type ErrorFrame, errorFrame } from "../protocol/frames";
import type { ParsedSamples } from "../protocol/parse-frame";
import { peekSamplesHead } from "../protocol/peek-frame";
import type { AckedSeqs } from "../storage/stream-state/acked-seqs";
import { jittered } from "../util/jitter";

export type Decision =
  /** Never acked: store it with the next commit. */
  | { kind: "store" }
  /** Acked before (or waiting in the queue): ack it again, after what is queued, without storing it. */
  | { kind: "duplicate" }
  | { kind: "refuse"; error: ErrorFrame };

/** The shortest text of one sample, `{"t":0,"ch":"a","v":0}`: a frame of n chars holds at most n / this samples. */
const MIN_SAMPLE_CHARS = 22;
/** Shortest retry_after_ms of a buffer_full answer. */
const MIN_RETRY_AFTER_MS = 100;
/** Longest retry_after_ms: a relay hears back within this however long the queue of refused work. */
const MAX_RETRY_AFTER_MS = 30_000;

/**
 * Admission of `samples` frames (docs/protocol.md): dedup against the relay's acked seqs and the frames queued for the
 * next commit, then capacity. Under backpressure a frame is refused before it is parsed when its head shows it
 * cannot be admitted, and each refused relay is told a jittered retry time, so a crowd of relays neither costs
 * a parse per refusal nor comes back as one wave (docs/architecture.md, "Backpressure").
 */
export class Admission {
  /** Seqs admitted into the commit queue and not committed yet, per relay: seq → content print. */
  readonly #queued = new Map<string, Map<number, number>>();
  #queuedSamples = 0;
  /** Relays told buffer_full, until when: their frames before then are refused from the head alone. */
  readonly #retryAt = new Map<string, number>();

  constructor(
    private readonly config: Config,
    private readonly acked: () => AckedSeqs,
    private readonly bufferSize: () => number,
    /** How long until a flush can make room, given the samples waiting (buffer and queue). */
    private readonly flushDueInMs: (waiting: number) => number,
  ) {}

  /** Samples waiting in the buffer and the queue. */
  get waiting(): number {
    return this.bufferSize() + this.#queuedSamples;
  }

  /**
   * A refusal from the frame's text alone, or null: parse it and call admit(). Only a frame that may not fit
   * (more chars than the free room could take as samples) from a relay still told to wait, or any frame while
   * the buffer is full.
   */
  refuseUnparsed(text: string, now: number): ErrorFrame | null {
    const free = this.config.bufferCapacity - this.waiting;
    if (text.length / MIN_SAMPLE_CHARS <= free) return null;
    const full = free <= 0;
    if (!full && this.#retryAt.size === 0) return null;
    const head = peekSamplesHead(text);
    if (!head) return null;
    const retryAt = this.#retryAt.get(head.relayId);
    if (retryAt !== undefined && retryAt <= now) this.#retryAt.delete(head.relayId);
    const waitingRelay = retryAt !== undefined && retryAt > now;
    if (!full && !waitingRelay) return null;
    // Duplicates are acked whatever the buffer holds: parse them.
    if (this.#isDuplicate(head.relayId, head.seq)) return null;
    return this.#bufferFull(head.relayId, head.seq, now);
  }

  /** `print`: the frame's content print (src/protocol/frame-print.ts). */
  admit({ frame }: ParsedSamples, print: number, now: number): Decision {
    const { relay_id: relayId, seq } = frame;
    if (this.#isDuplicate(relayId, seq)) {
      const stored = this.#queued.get(relayId)?.get(seq) ?? this.acked().printOf(relayId, seq);
      // Unknown print: acked by a release that kept none; taken as the same frame, as it always was.
      if (stored === null || stored === print) return { kind: "duplicate" };
      const message = `seq: ${seq} was already acked for relay ${relayId} with other content (another session or other samples); a relay that restarted its numbering must use a new relay_id`;
      return { kind: "refuse", error: errorFrame("invalid", message, seq) };
    }
    if (this.acked().status(relayId, seq) === "forgotten") {
      const floor = this.acked().floor(relayId);
      const message = `seq: ${seq} is older than this relay's dedup window (seqs up to ${floor} are forgotten); a relay that restarts its numbering must use a new relay_id`;
      return { kind: "refuse", error: errorFrame("invalid", message, seq) };
    }
    const count = frame.samples.length;
    if (this.waiting + count > this.config.bufferCapacity) {
      return { kind: "refuse", error: this.#bufferFull(relayId, seq, now) };
    }
    this.#queuedSamples += count;
    let seqs = this.#queued.get(relayId);
    if (!seqs) {
      seqs = new Map();
      this.#queued.set(relayId, seqs);
    }
    seqs.set(seq, print);
    return { kind: "store" };
  }

  /** The queue was committed (or failed): its frames no longer count as queued. */
  drained(): void {
    this.#queued.clear();
    this.#queuedSamples = 0;
  }

  #isDuplicate(relayId: string, seq: number): boolean {
    return this.#queued.get(relayId)?.has(seq) === true || this.acked().status(relayId, seq) === "acked";
  }

  /** buffer_full with a retry time after the next flush can have made room, jittered per refusal. */
  /**
   * The retry hint grows with the queue of refused work: a flush makes room for about
   * capacity / (2 × frame limit) full frames, so relays already told to wait beyond that many are spread over
   * as many flush periods (all told "100 ms" came back as one wave and starved the flush).
   */
  #bufferFull(relayId: string, seq: number, now: number): ErrorFrame {
    for (const [id, at] of this.#retryAt) if (at <= now) this.#retryAt.delete(id);
    const waitingRelays = this.#retryAt.size - (this.#retryAt.has(relayId) ? 1 : 0);
    const perFlush = Math.max(
      1,
      Math.floor(this.config.bufferCapacity / (2 * this.config.maxSamplesPerFrame)),
    );
    const base = Math.max(MIN_RETRY_AFTER_MS, this.flushDueInMs(this.waiting) + MIN_RETRY_AFTER_MS);
    const retryAfterMs = Math.min(
      MAX_RETRY_AFTER_MS,
      jittered(base * (1 + Math.floor(waitingRelays / perFlush)), 0.5),
    );
    this.#retryAt.set(relayId, now + retryAfterMs);
    const message = `buffer holds ${this.waiting} of ${this.config.bufferCapacity} samples; retry after ${retryAfterMs} ms`;
    return errorFrame("buffer_full", message, seq, retryAfterMs);
  }
}
