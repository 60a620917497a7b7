import { type Context, Hono } from "hono";
import type { Env } from "../env";
import { ApiError } from "../http/route-error";
import { getIsolateMetrics } from "../metrics/record/isolate-metrics";
import { type AccessEnv, requireAccess } from "../middleware/access";
import { jsonResponse } from "../protocol/json-text";
import { findUserDatabase } from "../storage/d1/user-databases";
import { listChannels } from "../storage/read/channel-list";
import { firstIssue, queryParams, rangeQuery } from "./read-query";

/**
 * `GET /v1/users/:user_id/channels?from&to` (consumer token): every channel with stored samples in the range,
 * with their count and first and last t, from the chunk statistics of both tiers (docs/protocol.md).
 */
export const channels = new Hono<{ Bindings: Env }>().get(
  "/v1/users/:user_id/channels",
  requireAccess("consumer", "param"),
  getChannels,
);

async function getChannels(c: Context<AccessEnv>): Promise<Response> {
  const { userId } = c.var.access;
  const query = rangeQuery.safeParse(queryParams(c.req.url, []));
  if (!query.success) throw new ApiError(400, "invalid", firstIssue(query.error));
  const { from, to } = query.data;
  const { channels, errors } = await listChannels(await findUserDatabase(c.env, userId), c.env.COLD, {
    userId,
    from,
    to,
  });
  if (errors.length > 0) getIsolateMetrics().chunkDecodeErrors.add(errors.length);
  return jsonResponse({ user_id: userId, from, to, channels, errors });
}
