// The live samples of one channel, kept sorted by time in two columns that uPlot draws as they are, and the
// channel's figures for the status line: samples per second, newest sample, its relay and session.

/** Samples kept per channel: ten minutes at 50 Hz. Older ones fall off (history is loaded from the server). */
export const MAX_LIVE_POINTS = 30_000;
const RATE_WINDOW_MS = 5000;

export class ChannelBuffer {
  constructor(name) {
    this.name = name;
    this.t = [];
    this.v = [];
    this.relayId = "";
    this.sessionId = "";
    /** When the newest sample arrived here (local clock): the rate reads 0 once a stream stops. */
    this.lastArrival = 0;
  }

  get size() {
    return this.t.length;
  }

  get lastT() {
    return this.t.length ? this.t[this.t.length - 1] : null;
  }

  get lastV() {
    return this.v.length ? this.v[this.v.length - 1] : null;
  }

  /**
   * Adds one sample; a late one (older than the newest) is inserted in place. The same (t, v) next to itself is
   * dropped: the stored samples loaded at start and the socket's backlog overlap.
   */
  add(t, v, relayId, sessionId, arrivedAt) {
    const n = this.t.length;
    if (n > 0 && t === this.t[n - 1] && v === this.v[n - 1]) return;
    if (n === 0 || t >= this.t[n - 1]) {
      this.t.push(t);
      this.v.push(v);
      this.relayId = relayId;
      this.sessionId = sessionId;
    } else {
      const i = upperBound(this.t, t);
      if (i > 0 && this.t[i - 1] === t && this.v[i - 1] === v) return;
      this.t.splice(i, 0, t);
      this.v.splice(i, 0, v);
    }
    this.lastArrival = Math.max(this.lastArrival, arrivedAt);
    // Trim in batches: one splice per 10% over the cap, not one per sample.
    if (this.t.length > MAX_LIVE_POINTS * 1.1) {
      const drop = this.t.length - MAX_LIVE_POINTS;
      this.t.splice(0, drop);
      this.v.splice(0, drop);
    }
  }

  /**
   * Samples per second over the newest five seconds of sample time (relay clocks, so neither clock skew nor a
   * burst of backlog on reconnect distorts it); 0 when nothing arrived for five seconds.
   */
  rate(now) {
    const n = this.t.length;
    if (n < 2 || now - this.lastArrival > RATE_WINDOW_MS) return 0;
    const newest = this.t[n - 1];
    const first = lowerBound(this.t, newest - RATE_WINDOW_MS);
    const span = newest - this.t[first];
    return span > 0 ? ((n - 1 - first) * 1000) / span : 0;
  }
}

/** First index whose value is > x. */
function upperBound(a, x) {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index whose value is >= x. */
function lowerBound(a, x) {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
