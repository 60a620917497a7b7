import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ErrorCode } from "../protocol/frames";

/**
 * Codes of a route error: the frame codes of docs/protocol.md where they apply, and the HTTP-only ones.
 * The README's "Errors" table says when each is answered, with which status.
 */
type RouteErrorCode =
  | ErrorCode
  | "forbidden"
  | "not_found"
  | "upgrade_required"
  | "auth_not_configured"
  | "metrics_disabled"
  | "config";

/** A refusal as a route answers it: the status and the body's code and message. */
interface RouteError {
  status: ContentfulStatusCode;
  code: RouteErrorCode;
  message: string;
}

/**
 * A refusal thrown by auth, middleware or a route and answered once, by the app's `onError`: checks stay plain
 * functions that return their value, as Hono's own `HTTPException` lets them. `headers` go on the answer
 * (e.g. `WWW-Authenticate`).
 */
export class ApiError extends HTTPException {
  override readonly name = "ApiError";

  constructor(
    status: ContentfulStatusCode,
    readonly code: RouteErrorCode,
    message: string,
    readonly headers?: Record<string, string>,
  ) {
    super(status, { message });
  }

  /** Hono answers an HTTPException with this when no `onError` catches it first: the same body. */
  override getResponse(): Response {
    return Response.json(errorBody(this), { status: this.status, headers: this.headers });
  }
}

/**
 * Every route error has the shape of the WebSocket error frame, `{"type":"error","code","message"}`, so a client
 * reads one shape whatever it called.
 */
export function errorResponse(c: Context, error: RouteError, headers?: Record<string, string>): Response {
  return c.json(errorBody(error), error.status, headers);
}

function errorBody(error: Pick<RouteError, "code" | "message">) {
  return { type: "error", code: error.code, message: error.message } as const;
}
