import type { Config } from "../config";
import { type ErrorFrame, errorFrame } from "../protocol/frames";
import type { ParsedSamples } from "../protocol/parse-frame";
import { peekSamplesHead } from "../protocol/peek-frame";
import type { AckedSeqs } from "../storage/stream-state/acked-seqs";
import { RefusedLine } from "./refused-line";

export type Decision =
  /** Never acked: store it with the next commit. */
  | { kind: "store" }
  /** Acked before (or waiting in the queue): ack it again, after what is queued, without storing it. */
  | { kind: "duplicate" }
  | { kind: "refuse"; error: ErrorFrame };

/** When the flush next makes room, and how fast the buffer drains to D1 (src/stream/d1-flusher.ts). */
export interface FlushPace {
  dueInMs(): number;
  msPerSample(): number;
}

/** The shortest text of one sample, `{"t":0,"ch":"a","v":0}`: a frame of n chars holds at most n / this samples. */
const MIN_SAMPLE_CHARS = 22;
/** Shortest retry_after_ms of a buffer_full answer. */
const MIN_RETRY_AFTER_MS = 100;
/** Longest retry_after_ms: a relay hears back within this, however long the line (its place is kept). */
const MAX_RETRY_AFTER_MS = 30_000;

/** A relay's frames waiting in the commit queue: seq → content print. */
type QueuedFrames = Map<number, number>;

/**
 * Admission of `samples` frames (docs/protocol.md): dedup against the relay's acked seqs and the frames queued
 * for the next commit, then capacity. A frame that does not fit joins a line of refused frames with a turn
 * (src/stream/refused-line.ts), and a frame is admitted only if the room left fits it after the frames ahead of
 * it: every relay makes progress, the hint grows with the refused work ahead, and a crowd comes back one frame
 * at a time, not as one wave. A frame that cannot fit is refused from its head alone, before it is parsed
 * (docs/architecture.md, "Backpressure").
 */
export class Admission {
  readonly #queued = new Map<string, QueuedFrames>();
  #queuedSamples = 0;
  readonly #line = new RefusedLine(MAX_RETRY_AFTER_MS);

  constructor(
    private readonly config: Config,
    private readonly acked: () => AckedSeqs,
    private readonly bufferSize: () => number,
    private readonly flush: FlushPace,
  ) {}

  /** Samples waiting in the buffer and the queue. */
  get waiting(): number {
    return this.bufferSize() + this.#queuedSamples;
  }

  /** Refused frames whose turn has not come. */
  waitingFrames(now: number): number {
    return this.#line.waitingFrames(now);
  }

  /**
   * A refusal from the frame's text alone, or null: parse it and call admit(). Only a frame that finds no room
   * left once the frames ahead of it in the line have theirs.
   */
  refuseUnparsed(text: string, now: number): ErrorFrame | null {
    const free = this.config.bufferCapacity - this.waiting;
    if (this.#line.size === 0 && text.length / MIN_SAMPLE_CHARS <= free) return null;
    const head = peekSamplesHead(text);
    if (!head) return null;
    if (free - this.#line.ahead(now, head.relayId, head.seq) > 0) return null;
    // Duplicates are acked whatever the buffer holds: parse them.
    if (this.#isDuplicate(head.relayId, head.seq)) return null;
    const samples = Math.min(this.config.maxSamplesPerFrame, text.length / MIN_SAMPLE_CHARS);
    return this.#bufferFull(head.relayId, head.seq, samples, now, samples);
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
    // The frames ahead in the line have their room first: a newcomer queues up behind them.
    const room = this.config.bufferCapacity - this.waiting - this.#line.ahead(now, relayId, seq);
    if (count > room) {
      return { kind: "refuse", error: this.#bufferFull(relayId, seq, count, now, count - room) };
    }
    this.#line.leave(relayId, seq);
    this.#queuedSamples += count;
    const queued = this.#queued.get(relayId) ?? new Map<number, number>();
    queued.set(seq, print);
    this.#queued.set(relayId, queued);
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

  /**
   * buffer_full, with the time until the frame's turn (at most 30 s: then it is told the rest). `missing`: the
   * samples of room it lacks now, which the flush must make before a frame whose turn came can fit.
   */
  #bufferFull(relayId: string, seq: number, samples: number, now: number, missing: number): ErrorFrame {
    const msPerSample = this.flush.msPerSample();
    const dueInMs = this.flush.dueInMs();
    const turn = this.#line.turn(relayId, seq, samples, now, {
      first: now + dueInMs + MIN_RETRY_AFTER_MS,
      drainMs: samples * msPerSample,
      headWaitMs: Math.max(MIN_RETRY_AFTER_MS, dueInMs, missing * msPerSample),
    });
    // Turns are spread by the line already: no jitter, or a frame would come back after those behind it.
    const retryAfterMs = Math.min(MAX_RETRY_AFTER_MS, Math.max(MIN_RETRY_AFTER_MS, Math.ceil(turn - now)));
    const message = `buffer holds ${this.waiting} of ${this.config.bufferCapacity} samples; ${this.#line.size} frames wait; retry after ${retryAfterMs} ms`;
    return errorFrame("buffer_full", message, seq, retryAfterMs);
  }
}
