import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import { getConfig } from "../config";
import type { Env } from "../env";
import { getIsolateMetrics } from "../metrics/isolate-metrics";
import { type ErrorFrame, errorFrame, type ReplyFrame } from "../protocol/frames";
import { EPOCH_MS_PATTERN, EPOCH_MS_RULE } from "../protocol/ids";
import { parseClientFrame } from "../protocol/parse-frame";
import { checkAccess, errorResponse } from "./guard";

/** Rows one read returns unless `limit` says otherwise, and at most. */
export const DEFAULT_READ_LIMIT = 1_000;
export const MAX_READ_LIMIT = 10_000;

/**
 * `POST /v1/users/:user_id/samples` (relay token): one `samples` frame as the JSON body, answered with the
 * ack or error frame a relay socket would get. `GET /v1/users/:user_id/samples?from&to&limit` (consumer
 * token): what D1 holds, oldest first.
 */
export const samples = new Hono<{ Bindings: Env }>()
  .post("/v1/users/:user_id/samples", postSamples)
  .get("/v1/users/:user_id/samples", getSamples);

const REPLY_STATUS: Record<ErrorFrame["code"], 400 | 401 | 413 | 429 | 500> = {
  invalid: 400,
  too_large: 413,
  buffer_full: 429,
  unauthorized: 401,
  internal: 500,
};

async function postSamples(c: Context<{ Bindings: Env }>): Promise<Response> {
  const access = await checkAccess(c, c.req.param("user_id"), "relay");
  if (!access.ok) {
    const { status, message } = access.refusal;
    const code = status === 400 ? "invalid" : "unauthorized";
    return c.json(errorFrame(code, message), status);
  }
  const config = getConfig(c.env);
  const refuse = (type: string, error: ErrorFrame) => {
    // Refused here, before the user object: counted here, as the object counts the frames it refuses.
    const { messagesReceived, messagesFailed } = getIsolateMetrics().ingest;
    messagesReceived.add(1, { message_type: type, user_id: access.userId });
    messagesFailed.add(1, { message_type: type, error_type: error.code });
    return reply(c, error);
  };
  // MAX_FRAME_BYTES before the body is held in memory: from a declared Content-Length at once, and while
  // streaming a body that declares none (chunked), by hono's bodyLimit.
  const limit = bodyLimit({
    maxSize: config.maxFrameBytes,
    onError: () =>
      refuse("samples", errorFrame("too_large", `frame is larger than ${config.maxFrameBytes} bytes`)),
  });
  let answer: Response | undefined;
  const refused = await limit(c, async () => {
    const parsed = parseClientFrame(await c.req.text(), config);
    if (!parsed.ok) {
      answer = refuse(parsed.type, parsed.error);
    } else if (!parsed.samples) {
      const type = parsed.frame.type;
      answer = refuse(type, errorFrame("invalid", `type: this route takes a samples frame, got ${type}`));
    } else {
      const stub = c.env.USER_STREAM.getByName(access.userId);
      answer = reply(c, await stub.ingest(access.userId, parsed.samples));
    }
  });
  return refused ?? (answer as Response);
}

function reply(c: Context, frame: ReplyFrame): Response {
  if (frame.type === "ack") return c.json(frame, 200);
  if (frame.retry_after_ms !== undefined)
    c.header("Retry-After", String(Math.ceil(frame.retry_after_ms / 1000)));
  return c.json(frame, REPLY_STATUS[frame.code]);
}

const epochMs = (name: string) =>
  z
    .string()
    .regex(EPOCH_MS_PATTERN, { error: `${name} ${EPOCH_MS_RULE}` })
    .transform(Number)
    .optional();

const readQuery = z
  .object({
    from: epochMs("from"),
    to: epochMs("to"),
    limit: z
      .string()
      .regex(/^\d{1,6}$/, { error: `limit must be an integer from 1 to ${MAX_READ_LIMIT}` })
      .transform(Number)
      .refine((n) => n >= 1 && n <= MAX_READ_LIMIT, {
        error: `limit must be an integer from 1 to ${MAX_READ_LIMIT}`,
      })
      .optional(),
  })
  .refine((q) => q.from === undefined || q.to === undefined || q.from < q.to, {
    error: "from must be before to",
  });

interface SampleRow {
  relay_id: string;
  session_id: string;
  seq: number;
  idx: number;
  t: number;
  ch: string;
  v: number;
}

/** `from` is inclusive, `to` exclusive; `has_more` says that `limit` cut the answer. */
async function getSamples(c: Context<{ Bindings: Env }>): Promise<Response> {
  const access = await checkAccess(c, c.req.param("user_id"), "consumer");
  if (!access.ok) return errorResponse(c, access.refusal.status, access.refusal.code, access.refusal.message);
  const query = readQuery.safeParse(c.req.query());
  if (!query.success) {
    return errorResponse(c, 400, "invalid", query.error.issues.map((i) => i.message).join("; "));
  }
  const from = query.data.from ?? 0;
  const to = query.data.to ?? Number.MAX_SAFE_INTEGER;
  const limit = query.data.limit ?? DEFAULT_READ_LIMIT;
  // Ordered by the index (user_id, t), whose entries end with the primary key: no sort step.
  const { results } = await c.env.DB.prepare(
    `SELECT relay_id, session_id, seq, idx, t, ch, v FROM samples
     WHERE user_id = ?1 AND t >= ?2 AND t < ?3 ORDER BY t, relay_id, seq, idx LIMIT ?4`,
  )
    .bind(access.userId, from, to, limit + 1)
    .all<SampleRow>();
  const hasMore = results.length > limit;
  const rows = hasMore ? results.slice(0, limit) : results;
  return c.json({
    user_id: access.userId,
    from,
    to,
    limit,
    count: rows.length,
    has_more: hasMore,
    samples: rows,
  });
}
