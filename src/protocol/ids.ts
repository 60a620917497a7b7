/** User ids, relay ids, session ids and channel names: 1–64 of `[A-Za-z0-9_.-]` (docs/protocol.md, "Routes" and "Frames"). */
export const ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

export const ID_RULE = "must be 1-64 characters of [A-Za-z0-9_.-]";

export function isValidId(value: unknown): value is string {
  return typeof value === "string" && ID_PATTERN.test(value);
}

/** Times in query parameters (`since`, `from`, `to`): epoch milliseconds as digits. */
export const EPOCH_MS_PATTERN = /^\d{1,16}$/;

/** The latest time a sample may carry: JavaScript's largest Date, so every stored `t` is readable back. */
export const MAX_EPOCH_MS = 8_640_000_000_000_000;

export const EPOCH_MS_RULE = `must be epoch milliseconds (an integer from 0 to ${MAX_EPOCH_MS})`;
