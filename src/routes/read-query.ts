import { z } from "zod";
import { EPOCH_MS_PATTERN, EPOCH_MS_RULE, ID_RULE, isValidId, MAX_EPOCH_MS } from "../protocol/ids";
import type { ReadPosition } from "../storage/d1/reader";
import { MAX_SERIES_BUCKETS } from "../storage/d1/series-reader";

/** Samples one read returns unless `limit` says otherwise, and at most. */
export const DEFAULT_READ_LIMIT = 1_000;
export const MAX_READ_LIMIT = 10_000;

const epochMs = (name: string) =>
  z
    .string({ error: `${name} is required: ${EPOCH_MS_RULE}` })
    .regex(EPOCH_MS_PATTERN, { error: `${name} ${EPOCH_MS_RULE}` })
    .transform(Number)
    .refine((n) => n <= MAX_EPOCH_MS + 1, { error: `${name} ${EPOCH_MS_RULE}` });

const channels = z
  .array(z.string(), { error: "ch is required (repeat it for several channels)" })
  .max(64, { error: "ch: at most 64 channels" })
  .refine((chs) => chs.every(isValidId), { error: `ch ${ID_RULE}` })
  .transform((chs) => [...new Set(chs)]);

const fromBeforeTo = (q: { from: number; to: number }) => q.from < q.to;

/** `?from&to&limit&ch&cursor` of GET samples: `from` inclusive (default 0), `to` exclusive (default: all). */
export const samplesQuery = z
  .object({
    from: epochMs("from").default(0),
    to: epochMs("to").default(MAX_EPOCH_MS + 1),
    limit: z
      .string()
      .regex(/^\d{1,6}$/, { error: `limit must be an integer from 1 to ${MAX_READ_LIMIT}` })
      .transform(Number)
      .refine((n) => n >= 1 && n <= MAX_READ_LIMIT, {
        error: `limit must be an integer from 1 to ${MAX_READ_LIMIT}`,
      })
      .default(DEFAULT_READ_LIMIT),
    ch: channels.optional(),
    cursor: z
      .string()
      .transform((text, ctx) => {
        const position = decodeCursor(text);
        if (!position) {
          ctx.addIssue({ code: "custom", message: "cursor: not a next_cursor of this API" });
          return z.NEVER;
        }
        return position;
      })
      .optional(),
  })
  .refine(fromBeforeTo, { error: "from must be before to" });

/** `?from&to` of GET channels: `from` inclusive (default 0), `to` exclusive (default: all). */
export const rangeQuery = z
  .object({ from: epochMs("from").default(0), to: epochMs("to").default(MAX_EPOCH_MS + 1) })
  .refine(fromBeforeTo, { error: "from must be before to" });

/** `?from&to&ch&session_id&format` of GET export. */
export const exportQuery = z
  .object({
    from: epochMs("from").default(0),
    to: epochMs("to").default(MAX_EPOCH_MS + 1),
    ch: channels.optional(),
    session_id: z
      .string()
      .refine(isValidId, { error: `session_id ${ID_RULE}` })
      .optional(),
    format: z.enum(["csv", "parquet"], { error: "format is required: csv or parquet" }),
  })
  .refine(fromBeforeTo, { error: "from must be before to" });

/** `?ch&from&to&step` of GET series: all required; at most MAX_SERIES_BUCKETS buckets. */
export const seriesQuery = z
  .object({
    ch: channels.refine((chs) => chs.length > 0, {
      error: "ch is required (repeat it for several channels)",
    }),
    from: epochMs("from"),
    to: epochMs("to"),
    step: z
      .string({ error: "step is required: a bucket width in ms" })
      .regex(/^[1-9]\d{0,15}$/, { error: "step must be a positive integer (ms)" })
      .transform(Number),
  })
  .refine(fromBeforeTo, { error: "from must be before to" })
  .refine((q) => Math.ceil((q.to - q.from) / q.step) <= MAX_SERIES_BUCKETS, {
    error: `step: (to - from) / step must be at most ${MAX_SERIES_BUCKETS} buckets; use a larger step`,
  });

/** The query parameters as zod reads them: repeatable ones as arrays. */
export function queryParams(url: string, repeatable: readonly string[]): Record<string, string | string[]> {
  const params = new URL(url).searchParams;
  const out: Record<string, string | string[]> = {};
  for (const key of new Set(params.keys()))
    out[key] = repeatable.includes(key) ? params.getAll(key) : (params.get(key) as string);
  return out;
}

/** The first problem of a failed parse, naming the parameter. */
export function firstIssue(error: z.ZodError): string {
  return error.issues.map((i) => i.message).join("; ");
}

/** `next_cursor`: the read position the next page starts after (the last sample returned, or the point up to which
 * every sample was returned when the work budget cut the page), opaque to clients (base64url JSON). */
export function encodeCursor(position: ReadPosition): string {
  return btoa(JSON.stringify(position)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function decodeCursor(text: string): ReadPosition | null {
  try {
    const value = JSON.parse(atob(text.replaceAll("-", "+").replaceAll("_", "/"))) as unknown;
    if (
      Array.isArray(value) &&
      value.length === 4 &&
      Number.isSafeInteger(value[0]) &&
      isValidId(value[1]) &&
      Number.isSafeInteger(value[2]) &&
      Number.isSafeInteger(value[3])
    ) {
      return value as ReadPosition;
    }
  } catch {
    // not base64 or not JSON
  }
  return null;
}
