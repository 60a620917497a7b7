import { z } from "zod";
import { type ClientFrame, type ErrorFrame, errorFrame, type Sample, type SamplesFrame } from "./frames";
import { EPOCH_MS_RULE, ID_PATTERN, ID_RULE, MAX_EPOCH_MS } from "./ids";
import { jsonText } from "./json-text";

interface FrameLimits {
  maxFrameBytes: number;
  maxSamplesPerFrame: number;
}

/** A valid `samples` frame plus what the buffer stores: the normalized samples as JSON text, `t` range. */
export interface ParsedSamples {
  frame: SamplesFrame;
  samplesJson: string;
  tMin: number;
  tMax: number;
}

/** `samples` is set exactly for a samples frame (test it to narrow `frame`). */
type ParseResult =
  | { ok: true; frame: Exclude<ClientFrame, SamplesFrame>; samples: null }
  | { ok: true; frame: SamplesFrame; samples: ParsedSamples }
  /** `type`: the frame's type when it was recognised, else "unknown" (for the metrics' message_type). */
  | { ok: false; error: ErrorFrame; type: string };

const NOT_UTF8 = "frame is not UTF-8 text";
const FRAME_TYPES = "session_start, samples, session_end or ping";
const POSITIVE_INT = "must be a positive integer";

const id = z.string({ error: ID_RULE }).regex(ID_PATTERN, { error: ID_RULE });

// The envelopes are validated with zod. loose: extra fields are ignored, not copied (strip would copy).
const envelopes = {
  session_start: z.looseObject({ type: z.literal("session_start"), session_id: id, relay_id: id }),
  session_end: z.looseObject({ type: z.literal("session_end"), session_id: id }),
  ping: z.looseObject({ type: z.literal("ping") }),
  samples: z.looseObject({
    type: z.literal("samples"),
    relay_id: id,
    session_id: id,
    seq: z
      .number({ error: POSITIVE_INT })
      .int({ error: POSITIVE_INT })
      .positive({ error: POSITIVE_INT })
      .max(Number.MAX_SAFE_INTEGER, { error: POSITIVE_INT }),
    // Only "is an array" here: the elements are checked by validateSamples below (see why there).
    samples: z.custom<unknown[]>((value) => Array.isArray(value), { error: "must be an array" }),
  }),
} as const;

type FrameType = keyof typeof envelopes;

const textDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
const textEncoder = new TextEncoder();

/**
 * Parses one client frame (a WebSocket message or an HTTP body). Never throws: a bad frame yields the error
 * frame to answer, whose message names the field (`samples[3].v: must be a finite number`).
 */
export function parseClientFrame(message: string | ArrayBuffer, limits: FrameLimits): ParseResult {
  if (exceedsBytes(message, limits.maxFrameBytes)) {
    return fail("too_large", `frame is larger than ${limits.maxFrameBytes} bytes`);
  }
  let text: string;
  try {
    text = typeof message === "string" ? message : textDecoder.decode(message);
  } catch {
    return fail("invalid", NOT_UTF8);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return fail("invalid", `frame is not valid JSON (${(err as Error).message})`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return fail("invalid", "frame must be a JSON object");
  }
  const record = raw as Record<string, unknown>;
  const type = record.type;
  if (typeof type !== "string" || !Object.hasOwn(envelopes, type)) {
    const got =
      typeof type === "string" ? `unknown frame type ${JSON.stringify(type)}` : "missing or not a string";
    return fail("invalid", `type: ${got} (expected ${FRAME_TYPES})`);
  }
  // The seq of a samples frame, when readable, goes into its error frame so the relay can match it.
  const seq = type === "samples" && isPositiveInt(record.seq) ? record.seq : undefined;
  // The runtime decodes a text message (and a request body) leniently, turning invalid UTF-8 into U+FFFD; no
  // valid frame needs that character, so its presence means the relay sent bytes that were not UTF-8.
  if (text.includes("\uFFFD")) return fail("invalid", NOT_UTF8, seq, type);
  const parsed = envelopes[type as FrameType].safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return fail(
      "invalid",
      issue ? `${formatPath(issue.path)}: ${issue.message}` : "invalid frame",
      seq,
      type,
    );
  }
  if (type !== "samples") {
    return { ok: true, frame: parsed.data as Exclude<ClientFrame, SamplesFrame>, samples: null };
  }

  const envelope = parsed.data as z.infer<(typeof envelopes)["samples"]>;
  if (envelope.samples.length === 0) return fail("invalid", "samples: must not be empty", seq, type);
  if (envelope.samples.length > limits.maxSamplesPerFrame) {
    return fail(
      "too_large",
      `samples: ${envelope.samples.length} samples, at most ${limits.maxSamplesPerFrame} per frame`,
      seq,
      type,
    );
  }
  const checked = validateSamples(envelope.samples);
  if (typeof checked === "string") return fail("invalid", checked, seq, type);
  const frame: SamplesFrame = {
    type: "samples",
    relay_id: envelope.relay_id,
    session_id: envelope.session_id,
    seq: envelope.seq,
    samples: checked.samples,
  };
  return {
    ok: true,
    frame,
    samples: {
      frame,
      // JSON.stringify would write -0 as 0; the rare frame holding one takes the slower exact path.
      samplesJson: checked.negativeZero ? jsonText(checked.samples) : JSON.stringify(checked.samples),
      tMin: checked.tMin,
      tMax: checked.tMax,
    },
  };
}

/**
 * The per-sample check is a hand loop rather than a zod array schema: it runs for every sample on the hot
 * path (up to 10,000 per frame), and a plain loop over typeof checks is several times faster than zod's
 * generic element walk with its issue bookkeeping. It also copies each sample to exactly {t, ch, v}, so the
 * stored and fanned-out JSON never carries a client's extra fields.
 */
function validateSamples(
  items: unknown[],
): { samples: Sample[]; tMin: number; tMax: number; negativeZero: boolean } | string {
  const samples: Sample[] = new Array(items.length);
  let tMin = Number.MAX_SAFE_INTEGER;
  let tMax = 0;
  let negativeZero = false;
  for (let i = 0; i < items.length; i++) {
    const item = items[i] as Record<string, unknown> | null;
    if (typeof item !== "object" || item === null || Array.isArray(item)) {
      return `samples[${i}]: must be an object {t, ch, v}`;
    }
    const { t, ch, v } = item;
    if (typeof t !== "number" || !Number.isSafeInteger(t) || t < 0 || t > MAX_EPOCH_MS) {
      return `samples[${i}].t: ${EPOCH_MS_RULE}`;
    }
    if (typeof ch !== "string" || !ID_PATTERN.test(ch)) return `samples[${i}].ch: ${ID_RULE}`;
    if (typeof v !== "number" || !Number.isFinite(v)) return `samples[${i}].v: must be a finite number`;
    samples[i] = { t, ch, v };
    if (v === 0 && Object.is(v, -0)) negativeZero = true;
    if (t > tMax) tMax = t;
    if (t < tMin) tMin = t;
  }
  return { samples, tMin, tMax, negativeZero };
}

/** Whether the frame exceeds `max` UTF-8 bytes; encodes only when the UTF-16 length leaves it in doubt. */
function exceedsBytes(message: string | ArrayBuffer, max: number): boolean {
  if (typeof message !== "string") return message.byteLength > max;
  if (message.length * 3 <= max) return false; // a UTF-16 unit is at most 3 UTF-8 bytes
  if (message.length > max) return true;
  return textEncoder.encode(message).byteLength > max;
}

function isPositiveInt(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value > 0;
}

function formatPath(path: PropertyKey[]): string {
  let out = "";
  for (const key of path) out += typeof key === "number" ? `[${key}]` : out ? `.${String(key)}` : String(key);
  return out || "frame";
}

function fail(code: ErrorFrame["code"], message: string, seq?: number, type = "unknown"): ParseResult {
  return { ok: false, error: errorFrame(code, message, seq), type };
}
