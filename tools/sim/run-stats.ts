import { LatencyRecorder } from "./latency.ts";

/** Counters every simulated relay and consumer of a run adds to. */
export class RunStats {
  framesSent = 0;
  framesAcked = 0;
  samplesAcked = 0;
  /** Frames sent again: after a reconnect, or after buffer_full. */
  resends = 0;
  reconnects = 0;
  /** Error frames by error code, plus `connect` for failed connection attempts. */
  readonly errors = new Map<string, number>();
  consumerFrames = 0;
  consumerSamples = 0;
  /** First send of a frame to its ack (ms). */
  readonly ackLatency = new LatencyRecorder();
  /** First send of a frame to its arrival at a consumer (ms). */
  readonly fanoutLatency = new LatencyRecorder();

  countError(code: string): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }

  /** Frames the relays are waiting on an answer for, updated by the relays. */
  unacked = 0;
}
