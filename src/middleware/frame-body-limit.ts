import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import { getConfig } from "../config";
import { refuseFrame } from "../http/frame-reply";
import { errorFrame } from "../protocol/frames";
import type { AccessEnv } from "./access";

/**
 * Refuses a POSTed frame over MAX_FRAME_BYTES with the `too_large` error frame (413) before the body is held in
 * memory: at once from a declared Content-Length, else while a chunked body streams in (hono's bodyLimit).
 * Runs after `requireAccess`: the refusal is counted for the user, like every refused frame.
 */
export function frameBodyLimit() {
  // One bodyLimit per configured size (the size comes from env, known only at the first request).
  const limits = new Map<number, MiddlewareHandler<AccessEnv>>();
  return createMiddleware<AccessEnv>(async (c, next) => {
    const maxSize = getConfig(c.env).maxFrameBytes;
    let limit = limits.get(maxSize);
    if (!limit) {
      limit = bodyLimit({
        maxSize,
        onError: (c) =>
          refuseFrame(
            c,
            c.get("access").userId,
            "samples",
            errorFrame("too_large", `frame is larger than ${maxSize} bytes`),
          ),
      });
      limits.set(maxSize, limit);
    }
    return limit(c, next);
  });
}
