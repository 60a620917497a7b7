import { metrics as otelApi } from "@opentelemetry/api";
import type { Env } from "../env";
import { createIngestInstruments, type IngestInstruments, type UserGaugeSnapshot } from "./instruments";

/**
 * Metrics of one user Durable Object: the instruments it records into, and the hook that ships what was
 * recorded (deltas plus a gauge snapshot) to the metrics aggregator.
 *
 * CONTRACT for the user object (durable-objects/user-stream.ts):
 *   - construct once in the object's constructor: `new ObjectMetrics(env, userId, () => snapshot)`;
 *   - record events through `instruments`;
 *   - call `await flush()` from the object's alarm (the same alarm that flushes the buffer to D1), and make
 *     sure an alarm is scheduled while `hasPending()` is true. flush() never throws.
 *
 * PLACEHOLDER: records into the global no-op meter until the aggregation pipeline lands.
 */
export class ObjectMetrics {
  readonly instruments: IngestInstruments;

  constructor(
    readonly env: Env,
    readonly userId: string,
    readonly snapshot: () => UserGaugeSnapshot,
  ) {
    this.instruments = createIngestInstruments(otelApi.getMeter("zander-edge"));
  }

  /** True when something was recorded (or the gauges changed) since the last successful flush. */
  hasPending(): boolean {
    return false;
  }

  /** Ships recorded deltas and the gauge snapshot to the aggregator. Never throws; retries on the next call. */
  async flush(): Promise<void> {}
}
