import { type Context, Hono } from "hono";
import { getConfig } from "../config";
import type { Env } from "../env";
import { refuseFrame, replyFrame } from "../http/frame-reply";
import { ApiError } from "../http/route-error";
import { getIsolateMetrics } from "../metrics/record/isolate-metrics";
import { type AccessEnv, requireAccess } from "../middleware/access";
import { frameBodyLimit } from "../middleware/frame-body-limit";
import { errorFrame } from "../protocol/frames";
import { jsonResponse } from "../protocol/json-text";
import { parseClientFrame } from "../protocol/parse-frame";
import { readSamples } from "../storage/d1/reader";
import { readSeries } from "../storage/d1/series-reader";
import { findUserDatabase } from "../storage/d1/user-databases";
import { encodeCursor, firstIssue, queryParams, samplesQuery, seriesQuery } from "./read-query";

/**
 * `POST /v1/users/:user_id/samples` (relay token): one `samples` frame as the JSON body, answered with the
 * ack or error frame a relay socket would get. `GET /v1/users/:user_id/samples` and `/series` (consumer
 * token): what the warm (D1) and cold (R2) tiers hold (src/storage/d1/reader.ts).
 */
export const samples = new Hono<{ Bindings: Env }>()
  .post("/v1/users/:user_id/samples", requireAccess("relay", "param"), frameBodyLimit(), postSamples)
  .get("/v1/users/:user_id/samples", requireAccess("consumer", "param"), getSamples)
  .get("/v1/users/:user_id/series", requireAccess("consumer", "param"), getSeries);

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

/**
 * `from` inclusive, `to` exclusive, oldest first in (t, relay_id, seq, idx) order; `ch` (repeatable) filters
 * channels; `has_more` says the answer was cut (by `limit`, or by the work budget of READ_CHUNK_BUDGET chunks decoded, even
 * with fewer samples) and `next_cursor` continues it exactly, ties included.
 * A chunk that cannot be decoded is listed in `errors` and counted, never silently dropped (docs/storage-format.md).
 */
async function getSamples(c: Context<AccessEnv>): Promise<Response> {
  const { userId } = c.var.access;
  const query = samplesQuery.safeParse(queryParams(c.req.url, ["ch"]));
  if (!query.success) throw new ApiError(400, "invalid", firstIssue(query.error));
  const { from, to, limit, ch, cursor } = query.data;
  const page = await readSamples(
    await findUserDatabase(c.env, userId),
    { userId, from, to, limit, channels: ch ?? null, position: cursor ?? null },
    c.env.COLD,
  );
  countCorrupt(page.errors.length);
  return jsonResponse({
    user_id: userId,
    from,
    to,
    limit,
    count: page.samples.length,
    has_more: page.next !== null,
    next_cursor: page.next ? encodeCursor(page.next) : null,
    samples: page.samples,
    errors: page.errors,
  });
}

/** `GET /v1/users/:user_id/series?ch=C&from&to&step`: the channels downsampled into buckets (docs/protocol.md, "Routes"). */
async function getSeries(c: Context<AccessEnv>): Promise<Response> {
  const { userId } = c.var.access;
  const query = seriesQuery.safeParse(queryParams(c.req.url, ["ch"]));
  if (!query.success) throw new ApiError(400, "invalid", firstIssue(query.error));
  const { from, to, step, ch } = query.data;
  const answer = await readSeries(
    await findUserDatabase(c.env, userId),
    { userId, from, to, step, channels: ch },
    c.env.COLD,
  );
  const { series, errors, nextFrom } = answer;
  countCorrupt(errors.length);
  return jsonResponse({
    user_id: userId,
    from,
    to,
    step,
    has_more: nextFrom !== null,
    next_from: nextFrom,
    series,
    errors,
  });
}

function countCorrupt(chunks: number): void {
  if (chunks > 0) getIsolateMetrics().chunkDecodeErrors.add(chunks);
}
