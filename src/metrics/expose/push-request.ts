import { VERSION } from "../../version";

/** `User-Agent` of every push: receivers log it, and the version tells which sender a sample came from. */
export const PUSH_USER_AGENT = `zander-edge/${VERSION}`;

/** What one push request came to, as counted in `remote_write_requests_total{result}` / `otlp_export_requests_total`. */
export type PushOutcome =
  /** 2xx. */
  | "success"
  /** A 4xx other than 429: the receiver refused this body; resending it would not help. */
  | "rejected"
  /** 413: the body is too large for the receiver. */
  | "too_large"
  /** 429 or a retryable 5xx still failing when the retries' time ran out, or a Retry-After beyond it. */
  | "failure"
  /** No answer within the timeout. */
  | "timeout";

export interface PushPolicy {
  /** Each attempt is aborted after this long (the OpenTelemetry exporter default is 10 s). */
  timeoutMs: number;
  /** No retry starts after this moment (epoch ms): the next interval pushes fresh values anyway. */
  deadline: number;
  /** Statuses worth retrying: remote-write retries 5xx and 429; OTLP 429, 502, 503, 504. */
  retryable: (status: number) => boolean;
  /** First backoff; doubled per retry and jittered. */
  backoffMs?: number;
}

export interface PushAnswer {
  outcome: PushOutcome;
  status: number | null;
  attempts: number;
  /** The answer's body (for OTLP's partial success), when 2xx. */
  body?: Uint8Array;
  contentType?: string | null;
  detail?: string;
}

/**
 * POSTs one push body with a timeout per attempt and retries of what the spec calls retryable, with jittered
 * exponential backoff, honouring `Retry-After` (seconds or a date) but never past `deadline` (Prometheus
 * remote-write 1.0, "Retries & Backoff"; OpenTelemetry OTLP exporter, "Retry"). Never throws.
 */
export async function postPush(url: string, init: RequestInit, policy: PushPolicy): Promise<PushAnswer> {
  let backoff = policy.backoffMs ?? 500;
  for (let attempts = 1; ; attempts++) {
    let res: Response;
    try {
      res = await fetch(url, { ...init, method: "POST", signal: AbortSignal.timeout(policy.timeoutMs) });
    } catch (err) {
      const timedOut = err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
      const outcome: PushOutcome = timedOut ? "timeout" : "failure";
      if (!timedOut && Date.now() + backoff < policy.deadline) {
        await sleep(jitter(backoff));
        backoff *= 2;
        continue;
      }
      return { outcome, status: null, attempts, detail: String(err) };
    }
    const body = new Uint8Array(await res.arrayBuffer().catch(() => new ArrayBuffer(0)));
    if (res.ok)
      return {
        outcome: "success",
        status: res.status,
        attempts,
        body,
        contentType: res.headers.get("content-type"),
      };
    const detail = new TextDecoder().decode(body.subarray(0, 300));
    if (res.status === 413) return { outcome: "too_large", status: 413, attempts, detail };
    if (!policy.retryable(res.status)) return { outcome: "rejected", status: res.status, attempts, detail };
    const wait = retryAfterMs(res.headers.get("retry-after")) ?? jitter(backoff);
    if (Date.now() + wait >= policy.deadline)
      return { outcome: "failure", status: res.status, attempts, detail };
    await sleep(wait);
    backoff *= 2;
  }
}

/** `Retry-After` as milliseconds from now: delta-seconds or an HTTP date; null when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | null {
  if (header === null) return null;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

function jitter(ms: number): number {
  return ms * (0.5 + Math.random());
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
