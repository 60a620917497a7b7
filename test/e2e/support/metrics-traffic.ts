import type { TokenRole } from "../../../tools/lib/token.ts";
import { type Frame, FrameClient, openStream } from "./frame-client";

export const E2E_AUTH_SECRET = "e2e-auth-secret-0123456789abcdef";
export const E2E_METRICS_TOKEN = "e2e-metrics-token";

export { SPEC_METRIC_NAMES } from "../../support/spec-metrics";

/** A client of the metrics e2e tests: the protocol client, with tokens signed by E2E_AUTH_SECRET. */
export type Client = FrameClient;

function openClient(baseUrl: string, role: TokenRole, userId: string): Promise<Client> {
  return openStream(baseUrl, E2E_AUTH_SECRET, role, userId).then((ws) => new FrameClient(ws));
}

/**
 * Traffic that touches every catalogue metric: a consumer and a relay session with samples, an invalid frame, a ping,
 * a relay reconnect, plain HTTP requests. Leaves one relay and one consumer connected (live gauges).
 */
export async function driveTraffic(
  baseUrl: string,
  userId: string,
): Promise<{ relay: Client; consumer: Client }> {
  for (let i = 0; i < 3; i++) await fetch(`${baseUrl}/health`);
  await fetch(`${baseUrl}/v1/users/${userId}/samples?from=0&to=1`);
  const consumer = await openClient(baseUrl, "consumer", userId);
  let relay = await openClient(baseUrl, "relay", userId);
  relay.send({ type: "session_start", session_id: "s1", relay_id: "r1" });
  const frame = (seq: number) => ({
    type: "samples",
    relay_id: "r1",
    session_id: "s1",
    seq,
    samples: [{ t: Date.now(), ch: "hr", v: seq }],
  });
  for (let seq = 1; seq <= 3; seq++) await expectFrame(relay.request(frame(seq)), "ack");
  await expectFrame(relay.request("not json"), "error");
  await expectFrame(relay.request({ type: "ping" }), "pong");
  await relay.close();
  relay = await openClient(baseUrl, "relay", userId);
  await expectFrame(relay.request(frame(4)), "ack");
  relay.send({ type: "session_end", session_id: "s1" });
  relay.send({ type: "session_start", session_id: "s2", relay_id: "r1" });
  await expectFrame(relay.request({ ...frame(5), session_id: "s2" }), "ack");
  return { relay, consumer };
}

async function expectFrame(reply: Promise<Frame>, type: string): Promise<void> {
  const frame = await reply;
  if (frame.type !== type) throw new Error(`expected a ${type} frame, got ${JSON.stringify(frame)}`);
}

/** GET a metrics route with the bearer token. */
export async function scrapeText(baseUrl: string, path = "/metrics"): Promise<string> {
  const res = await fetch(`${baseUrl}${path}`, { headers: { Authorization: `Bearer ${E2E_METRICS_TOKEN}` } });
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res.text();
}

export { parsePrometheusSamples as parseSamples } from "../../support/spec-metrics";

/**
 * Scrapes `path` until it contains `mustContain` and two scrapes 1.5 s apart are equal (every flush has landed);
 * returns the text. Lines of remote_write_requests_total and otlp_export_requests_total, which a running push
 * moves, do not count as a change.
 */
export async function settledScrape(
  baseUrl: string,
  mustContain: string,
  path = "/metrics-custom",
  timeoutMs = 60_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  const stable = (text: string) => text.replace(/^(remote_write|otlp_export)_requests_total.*$/gm, "");
  let previous = await scrapeText(baseUrl, path);
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1_500));
    const current = await scrapeText(baseUrl, path);
    if (current.includes(mustContain) && stable(current) === stable(previous)) return current;
    previous = current;
  }
  throw new Error(`${path} did not settle with ${mustContain} within ${timeoutMs} ms:\n${previous}`);
}
