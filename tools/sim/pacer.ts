/**
 * Decides when relays may create a new frame: at a target rate over all relays (a token bucket that starts
 * empty), and never past a total sample budget.
 */
export class Pacer {
  private startedAt = 0;
  private taken = 0;
  private samplesLeft: number;
  /** Frames per second over all relays; 0 = no rate limit. */
  private readonly rate: number;

  constructor(rate: number, sampleBudget: number) {
    this.rate = rate;
    this.samplesLeft = sampleBudget;
  }

  start(now: number): void {
    this.startedAt = now;
  }

  /** Takes one frame of `samples` samples if the rate and the budget allow it now. */
  take(now: number, samples: number): boolean {
    if (this.samplesLeft < samples) return false;
    if (this.rate > 0 && this.taken >= ((now - this.startedAt) * this.rate) / 1000) return false;
    this.taken++;
    this.samplesLeft -= samples;
    return true;
  }

  get exhausted(): boolean {
    return this.samplesLeft <= 0;
  }
}
