// How much history to ask for: a bucket step that keeps every chart at or under MAX_BUCKETS points, and the
// rule for switching to raw samples. Pure functions, shared by the page and its unit tests.

/** At most this many buckets per chart and request: a day at 50 Hz becomes ~2,000 points, never 4.3 million. */
export const MAX_BUCKETS = 2000;
/** A channel whose range holds at most this many samples is drawn from raw samples instead of buckets. */
export const RAW_POINT_LIMIT = 5000;
/** Samples per `/samples` request (the server allows up to 10,000). */
export const RAW_PAGE_LIMIT = 5000;
/** Ranges shorter than this are widened: zooming in stops at 100 ms. */
export const MIN_RANGE_MS = 100;

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Bucket steps that read well on a time axis, smallest first. */
const NICE_STEPS = [
  1,
  2,
  5,
  10,
  20,
  50,
  100,
  200,
  500,
  SECOND,
  2 * SECOND,
  5 * SECOND,
  10 * SECOND,
  15 * SECOND,
  30 * SECOND,
  MINUTE,
  2 * MINUTE,
  5 * MINUTE,
  10 * MINUTE,
  15 * MINUTE,
  30 * MINUTE,
  HOUR,
  2 * HOUR,
  3 * HOUR,
  6 * HOUR,
  12 * HOUR,
  DAY,
];

/** The smallest nice step that cuts [from, to) into at most MAX_BUCKETS buckets. */
export function bucketStep(from, to) {
  const needed = Math.ceil((to - from) / MAX_BUCKETS);
  return NICE_STEPS.find((s) => s >= needed) ?? Math.ceil(needed / DAY) * DAY;
}

/** The request for a range: `from` moved back to a whole step, so that buckets line up between requests. */
export function seriesRequest(from, to) {
  const step = bucketStep(from, to);
  return { from: Math.floor(from / step) * step, to: Math.ceil(to / step) * step, step };
}

/** Raw samples are worth loading when the buckets say the range holds few enough of them. */
export function wantsRaw(buckets) {
  let total = 0;
  for (const b of buckets) total += b.count;
  return total <= RAW_POINT_LIMIT;
}

/**
 * Buckets as uPlot columns [t, mean, min, max]. Empty buckets are omitted by the server; a null where one is
 * missing breaks the line, so a gap in the data shows as a gap and not as a straight line across it.
 */
export function bucketColumns(buckets, step) {
  const t = [];
  const mean = [];
  const min = [];
  const max = [];
  let previous = null;
  for (const b of buckets) {
    if (previous !== null && b.t - previous > step) {
      t.push(previous + step);
      mean.push(null);
      min.push(null);
      max.push(null);
    }
    t.push(b.t);
    mean.push(b.mean);
    min.push(b.min);
    max.push(b.max);
    previous = b.t;
  }
  return [t, mean, min, max];
}

/** Raw samples (oldest first) as uPlot columns [t, v]. */
export function sampleColumns(samples) {
  const t = new Array(samples.length);
  const v = new Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    t[i] = samples[i].t;
    v[i] = samples[i].v;
  }
  return [t, v];
}
