import { compress } from "snappyjs";
import type { Config } from "../../config";
import type { PromSample } from "./prometheus-samples";
import { encodeWriteRequest } from "./write-request";

/** Series per request: keeps each body well under receivers' limits (Grafana Cloud, Mimir) at 10k+ series. */
export const SERIES_PER_REQUEST = 2_000;

/** The `job` label on pushed series (a scrape gets its own from the scrape config). */
export const REMOTE_WRITE_JOB = "zander-edge";

/**
 * Pushes samples, all stamped `timestampMs`, as Prometheus remote-write 1.0: protobuf WriteRequest, Snappy block
 * compression, basic auth. Throws an Error naming the status when the receiver does not answer 2xx.
 */
export async function pushRemoteWrite(
  target: NonNullable<Config["remoteWrite"]>,
  samples: PromSample[],
  timestampMs: number,
): Promise<{ requests: number; series: number }> {
  const headers: Record<string, string> = {
    "Content-Encoding": "snappy",
    "Content-Type": "application/x-protobuf",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
    "User-Agent": "zander-edge",
  };
  if (target.username || target.password) {
    headers.Authorization = `Basic ${btoa(`${target.username}:${target.password}`)}`;
  }
  const labelled = samples.map((s) => ({ labels: { job: REMOTE_WRITE_JOB, ...s.labels }, value: s.value }));
  let requests = 0;
  for (let i = 0; i < labelled.length; i += SERIES_PER_REQUEST) {
    const body = compress(encodeWriteRequest(labelled.slice(i, i + SERIES_PER_REQUEST), timestampMs));
    const res = await fetch(target.url, { method: "POST", headers, body });
    requests++;
    if (!res.ok) {
      const detail = (await res.text().catch(() => "")).slice(0, 300);
      throw new Error(`remote-write to ${new URL(target.url).host} answered ${res.status}: ${detail}`);
    }
    await res.body?.cancel();
  }
  return { requests, series: labelled.length };
}
