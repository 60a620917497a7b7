import { jittered } from "../jitter";

/** Frames the line keeps places for at most; beyond, a refused frame is told a turn but takes its place later. */
const MAX_PLACES = 4_096;
/** A frame is expected back this long after its hint (jitter, network) before its reserved room is let go. */
const LATE_SLACK_MS = 1_000;

interface Place {
  turn: number;
  samples: number;
  /** Until when the frame is expected back: room stays reserved for it until then once its turn came. */
  expectedBy: number;
}

/** When a refused frame should come back. */
export interface TurnRule {
  /** A new place's turn: not before this, ... */
  first: number;
  /** ... and this long after the last turn given (the time the flush takes to move this frame's samples). */
  drainMs: number;
  /** A frame whose turn came but found no room comes back after this (until the flush has made that room). */
  headWaitMs: number;
}

/**
 * The line of frames refused `buffer_full`, one place per frame (relay id and seq), in the order they were
 * refused. Each place has a turn: after the last turn given, by the time the flush takes to move the frame's
 * samples, so the turns follow the buffer's drain and the line's length is the refused work ahead. A frame that
 * comes back keeps its place; once its turn has come, room is reserved for it until it is stored or stays away.
 */
export class RefusedLine {
  readonly #places = new Map<string, Place>();
  #lastTurn = 0;
  #prunedAt = 0;

  constructor(private readonly maxWaitMs: number) {}

  get size(): number {
    return this.#places.size;
  }

  /**
   * Samples of the frames ahead of this one in the line (all of them for a frame without a place): room that is
   * theirs first. A frame whose turn came counts while it is expected back.
   */
  ahead(now: number, relayId: string, seq: number): number {
    if (this.#places.size === 0) return 0;
    const before = this.#places.get(key(relayId, seq))?.turn ?? Number.POSITIVE_INFINITY;
    let samples = 0;
    for (const place of this.#places.values()) {
      if (place.turn < before && (place.turn > now || now <= place.expectedBy)) samples += place.samples;
    }
    return samples;
  }

  /** Frames whose turn has not come. */
  waitingFrames(now: number): number {
    let n = 0;
    for (const place of this.#places.values()) if (place.turn > now) n++;
    return n;
  }

  /**
   * The frame was refused: when it should come back. A frame with a place keeps it (or, its turn come and no
   * room, is told to come back soon and keeps the room reserved); a new frame takes the last place.
   */
  turn(relayId: string, seq: number, samples: number, now: number, rule: TurnRule): number {
    this.#prune(now);
    const k = key(relayId, seq);
    const place = this.#places.get(k);
    let back: number;
    if (place && place.turn > now) back = place.turn;
    else if (place) back = now + jittered(rule.headWaitMs);
    else {
      back = Math.max(rule.first, this.#lastTurn + rule.drainMs);
      this.#lastTurn = back;
      if (this.#places.size < MAX_PLACES) this.#places.set(k, { turn: back, samples, expectedBy: 0 });
    }
    const told = Math.min(back, now + this.maxWaitMs);
    const entry = this.#places.get(k);
    if (entry) entry.expectedBy = told + LATE_SLACK_MS;
    return back;
  }

  /** The frame was stored (or is no longer refused): its place is free. */
  leave(relayId: string, seq: number): void {
    this.#places.delete(key(relayId, seq));
  }

  /** Places of frames that stayed away long after they were expected (their relay left or gave up). */
  #prune(now: number): void {
    if (now - this.#prunedAt < 1_000) return;
    this.#prunedAt = now;
    for (const [k, place] of this.#places) {
      if (place.expectedBy + this.maxWaitMs < now) this.#places.delete(k);
    }
  }
}

function key(relayId: string, seq: number): string {
  return `${relayId}\n${seq}`;
}
