/**
 * The pace is measured over the batches of the last few seconds: long enough to even out a flush that runs in
 * bursts (batches back to back, then a gap), short enough to follow a change.
 */
const WINDOW_MS = 5_000;
/** Batches kept at most (a flush of small batches). */
const MAX_BATCHES = 512;
/** The pace assumed before two batches were timed (ms per sample: 50,000 samples/s). */
const INITIAL_MS_PER_SAMPLE = 0.02;

/**
 * How fast the buffer drains to D1: wall time per sample over the batches of the last seconds, from the first
 * one's end to the last one's, so it counts whatever else the object did meanwhile (frames answered, events ahead of the next
 * flush). When relays wait in line, the flush runs back to back and this is the rate room is made at; admission
 * tells refused frames their turn by it.
 */
export class DrainPace {
  readonly #at: number[] = [];
  readonly #samples: number[] = [];

  released(samples: number, at: number): void {
    this.#at.push(at);
    this.#samples.push(samples);
    while (this.#at.length > 2 && ((this.#at[0] ?? at) < at - WINDOW_MS || this.#at.length > MAX_BATCHES)) {
      this.#at.shift();
      this.#samples.shift();
    }
  }

  msPerSample(): number {
    const first = this.#at[0];
    const last = this.#at.at(-1);
    if (this.#at.length < 2 || first === undefined || last === undefined) return INITIAL_MS_PER_SAMPLE;
    // The first batch's samples were released before the window's clock starts.
    const samples = this.#samples.reduce((sum, n) => sum + n, 0) - (this.#samples[0] ?? 0);
    return samples > 0 ? Math.max(0, last - first) / samples : INITIAL_MS_PER_SAMPLE;
  }
}
