import { type Context, Hono } from "hono";
import type { Env } from "../env";
import { ApiError } from "../http/route-error";
import { type AccessEnv, requireAccess } from "../middleware/access";
import { findUserDatabase } from "../storage/d1/user-databases";
import { listChannels } from "../storage/read/channel-list";
import { exportCsv, exportParquet } from "../storage/read/export-stream";
import { exportQuery, firstIssue, queryParams } from "./read-query";

/**
 * `GET /v1/users/:user_id/export?from&to[&ch][&session_id]&format=csv|parquet` (consumer token): the stored
 * samples as a file streamed page by page in constant memory (docs/protocol.md, "Export").
 */
export const exportRoute = new Hono<{ Bindings: Env }>().get(
  "/v1/users/:user_id/export",
  requireAccess("consumer", "param"),
  getExport,
);

async function getExport(c: Context<AccessEnv>): Promise<Response> {
  const { userId } = c.var.access;
  const query = exportQuery.safeParse(queryParams(c.req.url, ["ch"]));
  if (!query.success) throw new ApiError(400, "invalid", firstIssue(query.error));
  const { from, to, ch, session_id, format } = query.data;
  const q = { userId, from, to, channels: ch ?? null, sessionId: session_id ?? null };
  const name = `${userId}-${from}-${to}.${format}`;
  const db = await findUserDatabase(c.env, userId);
  if (format === "parquet") {
    return new Response(exportParquet(db, c.env.COLD, q), {
      headers: {
        "Content-Type": "application/vnd.apache.parquet",
        "Content-Disposition": `attachment; filename="${name}"`,
      },
    });
  }
  // The CSV header names every column before the first row: the range's channels, from chunk statistics.
  const columns = ch ?? (await listChannels(db, c.env.COLD, { userId, from, to })).channels.map((x) => x.ch);
  return new Response(exportCsv(db, c.env.COLD, q, columns), {
    headers: {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="${name}"`,
    },
  });
}
