// The time range the charts show, and how zoom and pan move it. Pure functions over {from, to} in epoch ms.
import { MIN_RANGE_MS } from "./history-plan.js";

/** Zooms around the middle: factor 0.5 halves the range (zoom in), 2 doubles it (zoom out). */
export function zoom(range, factor) {
  const middle = (range.from + range.to) / 2;
  const half = Math.max(MIN_RANGE_MS, (range.to - range.from) * factor) / 2;
  return { from: Math.round(middle - half), to: Math.round(middle + half) };
}

/** Moves the range by `fraction` of its width: -0.5 is half a screen back in time. */
export function pan(range, fraction) {
  const shift = Math.round((range.to - range.from) * fraction);
  return { from: range.from + shift, to: range.to + shift };
}

/** The range a live window of `windowMs` covers at `now`. */
export function liveRange(now, windowMs) {
  return { from: now - windowMs, to: now };
}

/** A range from two `<input type="datetime-local">` values (local time); an error message names what is wrong. */
export function rangeFromInputs(fromText, toText) {
  const from = Date.parse(fromText);
  const to = Date.parse(toText);
  if (Number.isNaN(from)) return { error: "From is not a date and time." };
  if (Number.isNaN(to)) return { error: "To is not a date and time." };
  if (to - from < MIN_RANGE_MS) return { error: "To must be after From." };
  return { range: { from, to } };
}

/** Epoch ms as the value of an `<input type="datetime-local">` (local time, to the second). */
export function toInputValue(ms) {
  const d = new Date(ms);
  const pad = (n) => String(n).padStart(2, "0");
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}` +
    `T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  );
}
