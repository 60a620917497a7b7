import { compress } from "snappyjs";
import type { Config } from "../../config";
import type { PromSample } from "./prometheus-samples";
import { PUSH_USER_AGENT, type PushOutcome, type PushPolicy, postPush } from "./push-request";
import { encodeWriteRequest } from "./write-request";

/** Series per request: keeps each body well under receivers' limits (Grafana Cloud, Mimir) at 10k+ series. */
export const SERIES_PER_REQUEST = 2_000;

/** Statuses remote-write retries: 5xx MUST be, 429 MAY be (Prometheus remote-write 1.0, "Retries & Backoff"). */
const retryable = (status: number) => status >= 500 || status === 429;

/**
 * Pushes samples, all stamped `timestampMs`, as Prometheus remote-write 1.0: protobuf WriteRequest, Snappy block
 * compression, basic auth. Every batch is attempted whatever the others got; a batch answered 413 is split in
 * halves and each sent again. Returns each request's outcome (never throws).
 */
export async function pushRemoteWrite(
  target: NonNullable<Config["remoteWrite"]>,
  samples: PromSample[],
  timestampMs: number,
  policy: Omit<PushPolicy, "retryable">,
  ended?: EndedSeries,
): Promise<{ outcomes: PushOutcome[]; series: number }> {
  const headers: Record<string, string> = {
    "Content-Encoding": "snappy",
    "Content-Type": "application/x-protobuf",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
    "User-Agent": PUSH_USER_AGENT,
  };
  if (target.username || target.password) {
    headers.Authorization = `Basic ${btoa(`${target.username}:${target.password}`)}`;
  }
  const current: PromSample[] = samples.map((s) => ({
    labels: { ...exported(s.labels), job: target.job, instance: target.instance },
    value: s.value,
  }));
  const labelled = ended ? [...current, ...ended.markers(current)] : current;
  const outcomes: PushOutcome[] = [];
  const send = async (batch: typeof labelled): Promise<void> => {
    const body = compress(encodeWriteRequest(batch, timestampMs));
    const answer = await postPush(target.url, { headers, body }, { ...policy, retryable });
    if (answer.outcome === "too_large" && batch.length > 1) {
      const half = Math.ceil(batch.length / 2);
      await send(batch.slice(0, half));
      await send(batch.slice(half));
      return;
    }
    if (answer.outcome !== "success") {
      console.error(
        `remote-write to ${new URL(target.url).host}: ${answer.outcome} (${answer.status ?? "no answer"}, ${answer.attempts} attempts): ${answer.detail ?? ""}`,
      );
    }
    outcomes.push(answer.outcome);
  };
  for (let i = 0; i < labelled.length; i += SERIES_PER_REQUEST)
    await send(labelled.slice(i, i + SERIES_PER_REQUEST));
  return { outcomes, series: labelled.length };
}

/** A metric's own `job` or `instance` label kept as `exported_job`/`exported_instance`, as a Prometheus scrape does. */
function exported(labels: Record<string, string>): Record<string, string> {
  if (!("job" in labels) && !("instance" in labels)) return labels;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) out[k === "job" || k === "instance" ? `exported_${k}` : k] = v;
  return out;
}

/**
 * The series of the last push: one that is gone from this push gets a staleness marker, once, so a receiver
 * ends it at once instead of holding its last value for five minutes (remote-write 1.0, "Stale markers").
 * In memory: after a restart of the pusher, series that vanished across it are not marked (as in Prometheus).
 */
export class EndedSeries {
  #last = new Map<string, PromSample["labels"]>();

  markers(current: readonly PromSample[]): PromSample[] {
    const now = new Map(current.map((s) => [seriesKey(s.labels), s.labels]));
    const ended: PromSample[] = [];
    for (const [key, labels] of this.#last) if (!now.has(key)) ended.push({ labels, value: 0, stale: true });
    this.#last = now;
    return ended;
  }
}

function seriesKey(labels: PromSample["labels"]): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}\u0000${labels[k]}`)
    .join("\u0001");
}
