import type { Context } from "hono";
import { getIsolateMetrics } from "../metrics/record/isolate-metrics";
import type { ErrorFrame, ReplyFrame } from "../protocol/frames";

const REPLY_STATUS: Record<ErrorFrame["code"], 400 | 401 | 413 | 429 | 500> = {
  invalid: 400,
  too_large: 413,
  buffer_full: 429,
  unauthorized: 401,
  internal: 500,
};

/** A POSTed frame's answer: the ack (200) or the error frame with its status (README, "Errors"). */
export function replyFrame(c: Context, frame: ReplyFrame): Response {
  if (frame.type === "ack") return c.json(frame, 200);
  if (frame.retry_after_ms !== undefined) {
    c.header("Retry-After", String(Math.ceil(frame.retry_after_ms / 1000)));
  }
  return c.json(frame, REPLY_STATUS[frame.code]);
}

/**
 * A POSTed frame refused by the Worker before it reaches the user object: counted here, as the object counts
 * the frames it refuses, then answered.
 */
export function refuseFrame(c: Context, userId: string, type: string, error: ErrorFrame): Response {
  const { messagesReceived, messagesFailed } = getIsolateMetrics().ingest;
  messagesReceived.add(1, { message_type: type, user_id: userId });
  messagesFailed.add(1, { message_type: type, error_type: error.code });
  return replyFrame(c, error);
}
