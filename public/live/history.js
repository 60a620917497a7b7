// Loads stored history for a time range: buckets from `/series` for every channel (page by page), then raw
// samples from `/samples` (cursor by cursor) for the channels whose range holds few enough samples to draw
// them all. Every request is capped (MAX_BUCKETS, RAW_POINT_LIMIT), so a day at 50 Hz never floods the tab.
import { getJson, query } from "./api.js";
import {
  bucketColumns,
  RAW_PAGE_LIMIT,
  RAW_POINT_LIMIT,
  sampleColumns,
  seriesRequest,
  wantsRaw,
} from "./history-plan.js";

/**
 * Returns {step, channels: Map<ch, {kind: "buckets", columns, samples} | {kind: "raw", columns, cut}>,
 * errors: string[]} for [from, to).
 */
export async function loadHistory(userId, token, channels, range, signal) {
  const user = encodeURIComponent(userId);
  const request = seriesRequest(range.from, range.to);
  const body = await loadSeries(user, token, channels, request, signal);
  const errors = [...body.errors].map(describeError);
  const result = new Map();
  const rawLoads = [];
  for (const s of body.series) {
    // A channel without buckets has nothing stored in the range: left out, the page says so.
    if (s.buckets.length === 0) continue;
    const samples = s.buckets.reduce((n, b) => n + b.count, 0);
    if (wantsRaw(s.buckets)) {
      rawLoads.push(
        loadRaw(user, token, s.ch, range, signal).then(({ samples: rows, cut, errors: e }) => {
          result.set(s.ch, { kind: "raw", columns: sampleColumns(rows), cut });
          errors.push(...e);
        }),
      );
    } else {
      result.set(s.ch, { kind: "buckets", columns: bucketColumns(s.buckets, request.step), samples });
    }
  }
  await Promise.all(rawLoads);
  return { step: request.step, channels: result, errors };
}

/**
 * Every bucket of the request, following `next_from`: a series answer ends early, at a bucket edge, when it
 * has decoded its budget of chunks (docs/protocol.md, "Work budget").
 */
async function loadSeries(user, token, channels, request, signal) {
  const byChannel = new Map(channels.map((ch) => [ch, []]));
  const errors = [];
  let from = request.from;
  for (;;) {
    const page = await getJson(
      `/v1/users/${user}/series?${query({ ...request, from, ch: channels })}`,
      token,
      signal,
    );
    errors.push(...(page.errors ?? []));
    for (const s of page.series ?? []) byChannel.get(s.ch)?.push(...s.buckets);
    if (!page.has_more || page.next_from === null || page.next_from <= from) break;
    from = page.next_from;
  }
  return { series: [...byChannel].map(([ch, buckets]) => ({ ch, buckets })), errors };
}

/** Raw samples of one channel in the range, following `next_cursor`, at most RAW_POINT_LIMIT of them. */
async function loadRaw(user, token, ch, range, signal) {
  const samples = [];
  const errors = [];
  let cursor;
  for (;;) {
    const limit = Math.min(RAW_PAGE_LIMIT, RAW_POINT_LIMIT - samples.length);
    const params = { from: range.from, to: range.to, limit, ch, cursor };
    const page = await getJson(`/v1/users/${user}/samples?${query(params)}`, token, signal);
    errors.push(...(page.errors ?? []).map(describeError));
    // The route filters by `ch`; filtering again costs nothing and keeps other channels off this chart.
    for (const s of page.samples) if (s.ch === ch) samples.push(s);
    if (!page.has_more || !page.next_cursor) return { samples, cut: false, errors };
    if (samples.length >= RAW_POINT_LIMIT) return { samples, cut: true, errors };
    cursor = page.next_cursor;
  }
}

/** Stored samples the live charts start with, at most this many, the newest kept (the socket adds the rest). */
export const RECENT_CAP = 20_000;
/** Samples per request for them: the most the samples route returns at once. */
const RECENT_PAGE_LIMIT = 10_000;

/**
 * Every stored sample from `from` on, oldest first, the newest RECENT_CAP kept. No upper bound in time: relay
 * clocks may run ahead of the browser's, and a sample stored with a t after the browser's "now" is not in the
 * socket's backlog (that holds only what the object has not yet written to D1). Reading to the end of what is
 * stored leaves no gap between history and the stream, whatever the clocks say.
 */
export async function loadRecent(userId, token, from, signal) {
  const user = encodeURIComponent(userId);
  let samples = [];
  let cursor;
  for (;;) {
    const params = { from, limit: RECENT_PAGE_LIMIT, cursor };
    const page = await getJson(`/v1/users/${user}/samples?${query(params)}`, token, signal);
    samples.push(...page.samples);
    if (samples.length > RECENT_CAP) samples = samples.slice(-RECENT_CAP);
    if (!page.has_more || !page.next_cursor) return samples;
    cursor = page.next_cursor;
  }
}

/** The channels with stored samples in the range, from the server's channel list (chunk statistics). */
export async function discoverChannels(userId, token, range, signal) {
  const params = { from: range.from, to: range.to };
  const body = await getJson(
    `/v1/users/${encodeURIComponent(userId)}/channels?${query(params)}`,
    token,
    signal,
  );
  return body.channels.map((c) => c.ch);
}

function describeError(e) {
  return typeof e === "string" ? e : (e?.message ?? JSON.stringify(e));
}
