import { env } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { shardStub } from "../../src/metrics/aggregate/shard-stub";
import type { DeltaBatch, GaugeSnapshot } from "../../src/metrics/wire";
import { parsePrometheusSamples } from "../support/spec-metrics";

export const METRICS_TOKEN = "test-metrics-token";

/** GET a metrics route of the Worker with the bearer token; returns the text. */
export async function scrape(path = "/metrics"): Promise<string> {
  const res = await exports.default.fetch(`https://edge.test${path}`, {
    headers: { Authorization: `Bearer ${METRICS_TOKEN}` },
  });
  if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
  return res.text();
}

export { parsePrometheusSamples as samples } from "../support/spec-metrics";

/** The value of one series, or undefined. `labels` as rendered, e.g. `message_type="samples",user_id="u1"`. */
export function seriesValue(text: string, name: string, labels = ""): number | undefined {
  return parsePrometheusSamples(text).get(labels ? `${name}{${labels}}` : name);
}

/** Every label set of a metric name, parsed. */
export function series(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  const out: { labels: Record<string, string>; value: number }[] = [];
  for (const [key, value] of parsePrometheusSamples(text)) {
    const brace = key.indexOf("{");
    const metric = brace < 0 ? key : key.slice(0, brace);
    if (metric !== name) continue;
    const labels: Record<string, string> = {};
    if (brace >= 0) {
      for (const m of key.slice(brace + 1, -1).matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
        labels[m[1] as string] = m[2] as string;
      }
    }
    out.push({ labels, value });
  }
  return out;
}

let seq = 0;
/** A batch from a test sender, with a fresh seq. */
export function batch(sender: string, body: Partial<DeltaBatch> = {}): DeltaBatch {
  return { sender, seq: ++seq, createdAt: Date.now(), counters: [], histograms: [], ...body };
}

export function userGauges(
  userId: string,
  bufferSize: number,
  capacity: number,
  at = Date.now(),
): GaugeSnapshot {
  return {
    owner: `user:${userId}`,
    userId,
    fill: bufferSize / capacity,
    at,
    points: [
      { name: "edge_relay_connections", labels: {}, value: 1 },
      { name: "buffer_size", labels: { user_id: userId }, value: bufferSize },
      { name: "buffer_capacity", labels: { user_id: userId }, value: capacity },
    ],
  };
}

export { env, shardStub };
