/**
 * The user object's one alarm serves several deadlines (D1 flush, session expiry, token expiry, metrics): it
 * is set to the earliest, moved only earlier between runs, and re-planned at the end of every run, so no path
 * that leaves work for later can lose it.
 */
export class AlarmPlan {
  /** The alarm time this instance set or read (null: none). */
  #at: number | null = null;

  constructor(private readonly storage: DurableObjectStorage) {}

  /** Reads the stored alarm (in the constructor's blockConcurrencyWhile). */
  async load(): Promise<void> {
    this.#at = (await this.storage.getAlarm()) ?? null;
  }

  get at(): number | null {
    return this.#at;
  }

  /** Makes sure the alarm runs no later than `at`. */
  ensure(at: number | null): void {
    if (at === null) return;
    if (this.#at !== null && this.#at <= at) return;
    this.#at = at;
    void this.storage.setAlarm(at);
  }

  /** The alarm is running: it is no longer set. */
  fired(): void {
    this.#at = null;
  }

  /** After a run: the earliest of the deadlines, never in the past. */
  plan(deadlines: readonly (number | null)[]): void {
    const times = deadlines.filter((t): t is number => t !== null);
    if (times.length > 0) this.ensure(Math.max(Date.now(), Math.min(...times)));
  }
}
