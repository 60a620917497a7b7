import { type Context, Hono } from "hono";
import { z } from "zod";
import { getConfig } from "../config";
import type { Env } from "../env";
import { type AccessEnv, requireAccess } from "../middleware/access";
import { frameBodyLimit } from "../middleware/frame-body-limit";
import { errorFrame } from "../protocol/frames";
import { EPOCH_MS_PATTERN, EPOCH_MS_RULE } from "../protocol/ids";
import { parseClientFrame } from "../protocol/parse-frame";
import { refuseFrame, replyFrame } from "./frame-reply";
import { errorResponse } from "./route-error";

/** Rows one read returns unless `limit` says otherwise, and at most. */
export const DEFAULT_READ_LIMIT = 1_000;
export const MAX_READ_LIMIT = 10_000;

/**
 * `POST /v1/users/:user_id/samples` (relay token): one `samples` frame as the JSON body, answered with the
 * ack or error frame a relay socket would get. `GET /v1/users/:user_id/samples?from&to&limit` (consumer
 * token): what D1 holds, oldest first.
 */
export const samples = new Hono<{ Bindings: Env }>()
  .post("/v1/users/:user_id/samples", requireAccess("relay", "param"), frameBodyLimit(), postSamples)
  .get("/v1/users/:user_id/samples", requireAccess("consumer", "param"), getSamples);

async function postSamples(c: Context<AccessEnv>): Promise<Response> {
  const { userId } = c.var.access;
  const parsed = parseClientFrame(await c.req.text(), getConfig(c.env));
  if (!parsed.ok) return refuseFrame(c, userId, parsed.type, parsed.error);
  if (!parsed.samples) {
    const type = parsed.frame.type;
    return refuseFrame(
      c,
      userId,
      type,
      errorFrame("invalid", `type: this route takes a samples frame, got ${type}`),
    );
  }
  const stub = c.env.USER_STREAM.getByName(userId);
  return replyFrame(c, await stub.ingest(userId, parsed.samples));
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
async function getSamples(c: Context<AccessEnv>): Promise<Response> {
  const { userId } = c.var.access;
  const query = readQuery.safeParse(c.req.query());
  if (!query.success) {
    const message = query.error.issues.map((i) => i.message).join("; ");
    return errorResponse(c, { status: 400, code: "invalid", message });
  }
  const from = query.data.from ?? 0;
  const to = query.data.to ?? Number.MAX_SAFE_INTEGER;
  const limit = query.data.limit ?? DEFAULT_READ_LIMIT;
  // Ordered by the index (user_id, t), whose entries end with the primary key: no sort step.
  const { results } = await c.env.DB.prepare(
    `SELECT relay_id, session_id, seq, idx, t, ch, v FROM samples
     WHERE user_id = ?1 AND t >= ?2 AND t < ?3 ORDER BY t, relay_id, seq, idx LIMIT ?4`,
  )
    .bind(userId, from, to, limit + 1)
    .all<SampleRow>();
  const hasMore = results.length > limit;
  const rows = hasMore ? results.slice(0, limit) : results;
  return c.json({
    user_id: userId,
    from,
    to,
    limit,
    count: rows.length,
    has_more: hasMore,
    samples: rows,
  });
}
