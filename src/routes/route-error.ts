import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ErrorCode } from "../protocol/frames";

/**
 * Codes of a route error: the frame codes of SPEC §3 where they apply, and the HTTP-only ones.
 * The README's "Errors" table says when each is answered, with which status.
 */
export type RouteErrorCode =
  | ErrorCode
  | "forbidden"
  | "not_found"
  | "upgrade_required"
  | "auth_not_configured"
  | "metrics_disabled"
  | "config";

/** A refusal as a route answers it: the status and the body's code and message. */
export interface RouteError {
  status: ContentfulStatusCode;
  code: RouteErrorCode;
  message: string;
}

/** A check's outcome: the value, or the route error to answer instead. */
export type Checked<T> = { ok: true; value: T } | { ok: false; error: RouteError };

/**
 * Every route error has the shape of the WebSocket error frame, `{"type":"error","code","message"}`, so a client
 * reads one shape whatever it called.
 */
export function errorResponse(c: Context, error: RouteError, headers?: Record<string, string>): Response {
  return c.json({ type: "error", code: error.code, message: error.message }, error.status, headers);
}
