/** The JSON text frames of docs/protocol.md ("Frames"), as the server sees them after validation. */

export interface Sample {
  /** Epoch milliseconds. */
  t: number;
  /** Channel name, 1-64 of [A-Za-z0-9_.-]. */
  ch: string;
  /** A finite number. */
  v: number;
}

export interface SessionStartFrame {
  type: "session_start";
  session_id: string;
  relay_id: string;
}

export interface SamplesFrame {
  type: "samples";
  relay_id: string;
  session_id: string;
  seq: number;
  samples: Sample[];
}

export interface SessionEndFrame {
  type: "session_end";
  session_id: string;
}

interface PingFrame {
  type: "ping";
}

export type ClientFrame = SessionStartFrame | SamplesFrame | SessionEndFrame | PingFrame;

/** Error codes of docs/protocol.md ("Frames"). */
export type ErrorCode = "invalid" | "too_large" | "buffer_full" | "unauthorized" | "internal";

interface AckFrame {
  type: "ack";
  seq: number;
}

export interface ErrorFrame {
  type: "error";
  seq?: number;
  code: ErrorCode;
  message: string;
  retry_after_ms?: number;
}

export type ReplyFrame = AckFrame | ErrorFrame;

export function ackFrame(seq: number): AckFrame {
  return { type: "ack", seq };
}

export function errorFrame(
  code: ErrorCode,
  message: string,
  seq?: number,
  retryAfterMs?: number,
): ErrorFrame {
  const frame: ErrorFrame = { type: "error", code, message };
  if (seq !== undefined) frame.seq = seq;
  if (retryAfterMs !== undefined) frame.retry_after_ms = retryAfterMs;
  return frame;
}

/**
 * The `samples` frame a consumer receives, built from the stored JSON text of the samples so that fan-out
 * and backlog never re-serialize them.
 */
export function samplesFrameText(
  relayId: string,
  sessionId: string,
  seq: number,
  samplesJson: string,
): string {
  return `{"type":"samples","relay_id":${JSON.stringify(relayId)},"session_id":${JSON.stringify(sessionId)},"seq":${seq},"samples":${samplesJson}}`;
}

/** The exact ping text the runtime answers without waking the object (see UserStream). */
export const PING_TEXT = '{"type":"ping"}';
export const PONG_TEXT = '{"type":"pong"}';
