import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWranglerDev, type WranglerDev } from "../../tools/lib/wrangler-dev.ts";
import { type Frame, FrameClient } from "./support/frame-client";

// The README's "Protocol" section, replayed against `npm start` by a client that knows only the protocol:
// tokens from `npm run token`, a relay session, a consumer session with ?since=, POST and GET.
const PORT = 18832;

/** `npm run -s token -- --user U --role R --ttl 3600`, exactly as the README shows it (secret from .dev.vars). */
async function npmRunToken(user: string, role: "relay" | "consumer"): Promise<string> {
  const env = { ...process.env };
  delete env.AUTH_SECRET;
  const { stdout } = await promisify(execFile)(
    "npm",
    ["run", "-s", "token", "--", "--user", user, "--role", role, "--ttl", "3600"],
    { env },
  );
  // Nothing but the token (and its newline) on stdout: what `T=$(npm run -s token -- ...)` captures.
  expect(stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
  return stdout.trim();
}

describe("the README protocol against npm start", () => {
  let dev: WranglerDev;
  let relayToken: string;
  let consumerToken: string;
  beforeAll(async () => {
    // `since` replays what is still in the buffer, i.e. not yet flushed to D1: the flush interval must outlast
    // the steps from the first ack to the consumer's connect even on a loaded machine (200 ms did not, once).
    dev = await startWranglerDev({ port: PORT, vars: { FLUSH_INTERVAL_MS: "5000" } });
    relayToken = await npmRunToken("alice", "relay");
    consumerToken = await npmRunToken("alice", "consumer");
  });
  afterAll(async () => {
    await dev?.stop();
  });

  it("streams a relay session, resends after a reconnect, and a consumer gets the backlog since MS", async () => {
    const ws = dev.url.replace("http:", "ws:");
    const relay = await FrameClient.connect(`${ws}/v1/relay?user_id=alice&token=${relayToken}`);
    relay.send('{"type":"session_start","session_id":"run-7","relay_id":"phone-1"}');
    expect(
      await relay.request(
        '{"type":"samples","relay_id":"phone-1","session_id":"run-7","seq":1,"samples":[{"t":1763700000000,"ch":"hr","v":72.5},{"t":1763700000000,"ch":"spo2","v":98}]}',
      ),
    ).toEqual({ type: "ack", seq: 1 });
    expect(
      await relay.request(
        '{"type":"samples","relay_id":"phone-1","session_id":"run-7","seq":2,"samples":[{"t":1763700001000,"ch":"hr","v":"fast"}]}',
      ),
    ).toEqual({ type: "error", code: "invalid", message: "samples[0].v: must be a finite number", seq: 2 });
    expect(
      await relay.request(
        '{"type":"samples","relay_id":"phone-1","session_id":"run-7","seq":2,"samples":[{"t":1763700001000,"ch":"hr","v":74}]}',
      ),
    ).toEqual({ type: "ack", seq: 2 });
    const seq3 =
      '{"type":"samples","relay_id":"phone-1","session_id":"run-7","seq":3,"samples":[{"t":1763700002000,"ch":"hr","v":75}]}';
    relay.send(seq3);
    relay.ws.close();
    const again = await FrameClient.connect(`${ws}/v1/relay?user_id=alice&token=${relayToken}`);
    expect(await again.request(seq3)).toEqual({ type: "ack", seq: 3 });

    const consumer = await FrameClient.connect(
      `${ws}/v1/consume?user_id=alice&since=1763700000500&token=${consumerToken}`,
    );
    expect(await consumer.next()).toMatchObject({ seq: 2, samples: [{ t: 1763700001000, ch: "hr", v: 74 }] });
    expect(await consumer.next()).toMatchObject({ seq: 3, samples: [{ t: 1763700002000, ch: "hr", v: 75 }] });
    expect(await consumer.request('{"type":"ping"}')).toEqual({ type: "pong" });
    again.send('{"type":"session_end","session_id":"run-7"}');

    // POST another frame, then read everything back from D1 once flushed.
    const post = await fetch(`${dev.url}/v1/users/alice/samples`, {
      method: "POST",
      headers: { Authorization: `Bearer ${relayToken}` },
      body: '{"type":"samples","relay_id":"gw-1","session_id":"run-7","seq":1,"samples":[{"t":1763700003000,"ch":"hr","v":76}]}',
    });
    expect(post.status).toBe(200);
    expect(await post.json()).toEqual({ type: "ack", seq: 1 });
    expect(await consumer.next()).toMatchObject({ relay_id: "gw-1", seq: 1 });

    const read = async () => {
      const res = await fetch(
        `${dev.url}/v1/users/alice/samples?from=1763700000000&to=1763700060000&limit=500`,
        {
          headers: { Authorization: `Bearer ${consumerToken}` },
        },
      );
      expect(res.status).toBe(200);
      return (await res.json()) as { count: number; samples: Frame[] };
    };
    const deadline = Date.now() + 20_000;
    let body = await read();
    while (body.count < 5 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      body = await read();
    }
    expect(body.samples.map((s) => `${s.relay_id}/${s.seq}/${s.idx}:${s.ch}=${s.v}`)).toEqual([
      "phone-1/1/0:hr=72.5",
      "phone-1/1/1:spo2=98",
      "phone-1/2/0:hr=74",
      "phone-1/3/0:hr=75",
      "gw-1/1/0:hr=76",
    ]);
  });
});
