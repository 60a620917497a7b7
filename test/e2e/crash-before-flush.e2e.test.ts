import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintToken } from "../../tools/lib/token.ts";
import { startWranglerDev, type WranglerDev } from "../../tools/lib/wrangler-dev.ts";
import { FrameClient } from "./support/frame-client";
import { waitUntil } from "./support/wait-until";

// An ack means stored exactly once even when the whole server dies between the commit that acked a frame and
// the flush that would have moved it to D1: the buffer, its acked seqs and its prints survive the SIGKILL.
const PORT = 18871;
const SECRET = "crash-e2e-secret-0123456789abcdef0123";
const USER = "crash-user";
const T0 = 1_763_700_000_000;

const frame = (seq: number) =>
  JSON.stringify({
    type: "samples",
    relay_id: "r1",
    session_id: "s1",
    seq,
    samples: Array.from({ length: 10 }, (_, i) => ({ t: T0 + seq * 1000 + i, ch: "a", v: seq * 100 + i })),
  });

describe("a SIGKILL between commit and flush", () => {
  let dir: string;
  let server: WranglerDev | undefined;
  const start = (flushIntervalMs: string) =>
    startWranglerDev({
      port: PORT,
      persistTo: join(dir, "state"),
      vars: { AUTH_SECRET: SECRET, FLUSH_INTERVAL_MS: flushIntervalMs },
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "zander-crash-e2e-"));
  });
  afterAll(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function stored(): Promise<{ t: number; v: number }[]> {
    const token = await mintToken({ secret: SECRET, userId: USER, role: "consumer" });
    const res = await fetch(`${server?.url}/v1/users/${USER}/samples?limit=10000`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { samples: { t: number; v: number }[] }).samples;
  }

  async function relay(): Promise<FrameClient> {
    const token = await mintToken({ secret: SECRET, userId: USER, role: "relay" });
    const client = await FrameClient.connect(
      `${server?.url.replace("http:", "ws:")}/v1/relay?user_id=${USER}&token=${token}`,
    );
    client.send('{"type":"session_start","session_id":"s1","relay_id":"r1"}');
    return client;
  }

  it("keeps every acked frame and stores it once, resends and new frames included", async () => {
    // An hour between flushes: the acked frames stay in the object's buffer until the kill.
    server = await start("3600000");
    const first = await relay();
    for (let seq = 1; seq <= 20; seq++) expect(await first.request(frame(seq))).toEqual({ type: "ack", seq });
    expect(await stored()).toEqual([]);

    process.kill(-server.processGroup, "SIGKILL");
    await server.stop();
    server = await start("1000");

    // The relay never saw some acks and sends those frames again: acked as duplicates, not stored twice.
    const second = await relay();
    for (const seq of [18, 19, 20]) expect(await second.request(frame(seq))).toEqual({ type: "ack", seq });
    expect(await second.request(frame(21))).toEqual({ type: "ack", seq: 21 });

    const expected = Array.from({ length: 21 }, (_, s) =>
      Array.from({ length: 10 }, (_, i) => ({ t: T0 + (s + 1) * 1000 + i, v: (s + 1) * 100 + i })),
    ).flat();
    // Every sample, each once and in order (a sample stored twice would make more, not wait for a later flush:
    // the buffer rows a flush writes leave the buffer in the same transaction that records it).
    const got = await waitUntil(
      "every acked sample in D1",
      async () => {
        const samples = await stored();
        return samples.length >= expected.length ? samples : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(got.map(({ t, v }) => ({ t, v }))).toEqual(expected);
  });
});
