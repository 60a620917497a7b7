import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintToken } from "../../tools/lib/token.ts";
import { startWranglerDev, type WranglerDev } from "../../tools/lib/wrangler-dev.ts";
import { FrameClient } from "./support/frame-client";
import { E2E_AUTH_SECRET } from "./support/metrics-traffic";
import { groupRssMiB, RawConsumer } from "./support/raw-consumer";

const PORT = 18841;
const FRAMES = 240;
const SAMPLES_PER_FRAME = 10_000; // ~500 KB of JSON a frame: ~100 MiB a pass, far beyond a consumer's bound

/** The never-reading consumer of docs/protocol.md: closed 1013, and the runtime's memory does not follow its backlog. */
describe("a consumer that never reads", () => {
  let dev: WranglerDev;
  beforeAll(async () => {
    dev = await startWranglerDev({ port: PORT, vars: { AUTH_SECRET: E2E_AUTH_SECRET } });
  });
  afterAll(async () => {
    await dev?.stop();
  });

  const token = (user: string, role: "relay" | "consumer") =>
    mintToken({ secret: E2E_AUTH_SECRET, userId: user, role });

  /** Streams FRAMES frames for `user` (resending on buffer_full); returns the peak RSS and the MiB sent. */
  async function stream(user: string): Promise<{ peakMiB: number; sentMiB: number }> {
    const relay = await FrameClient.connect(
      `ws://127.0.0.1:${PORT}/v1/relay?user_id=${user}&token=${await token(user, "relay")}`,
    );
    let peakMiB = groupRssMiB(dev.processGroup);
    let bytes = 0;
    for (let seq = 1; seq <= FRAMES; ) {
      const samples = Array.from({ length: SAMPLES_PER_FRAME }, (_, i) => ({
        t: seq * 1e5 + i,
        ch: "x",
        v: i / 7,
      }));
      const text = JSON.stringify({ type: "samples", relay_id: "r1", session_id: "s1", seq, samples });
      const reply = await relay.request(text);
      if (reply.type === "error" && reply.code === "buffer_full") {
        await new Promise((r) => setTimeout(r, Number(reply.retry_after_ms)));
        continue;
      }
      expect(reply).toEqual({ type: "ack", seq });
      bytes += text.length;
      if (seq % 10 === 0) peakMiB = Math.max(peakMiB, groupRssMiB(dev.processGroup));
      seq++;
    }
    await relay.close();
    return { peakMiB, sentMiB: bytes / 2 ** 20 };
  }

  it("is closed with 1013 while the relay streams on, and costs the runtime no memory beyond its bound", async () => {
    // The same traffic without a consumer first: the runtime's own peak for this load.
    const alone = await stream("no-consumer");
    const user = "slow-consumer";
    const consumer = await RawConsumer.open(
      PORT,
      `/v1/consume?user_id=${user}&token=${await token(user, "consumer")}`,
    );
    consumer.stopReading();
    const withConsumer = await stream(user);
    consumer.resumeReading();
    const deadline = Date.now() + 20_000;
    while (consumer.frames().closeCode === null && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    const { texts, closeCode, closeReason } = consumer.frames();
    console.log(
      `never-reading consumer: ${FRAMES} frames (${withConsumer.sentMiB.toFixed(0)} MiB) streamed; it got ${texts} ` +
        `before close ${closeCode}; runtime peak RSS ${alone.peakMiB.toFixed(0)} MiB without a consumer, ` +
        `${withConsumer.peakMiB.toFixed(0)} MiB with it`,
    );
    expect(closeCode).toBe(1013);
    expect(closeReason).toContain("since");
    expect(texts).toBeLessThan(FRAMES / 2);
    // An unbounded backlog keeps everything sent, as UTF-16 strings: about twice the bytes sent. The bound keeps
    // 8 MiB of them; RSS moves by tens of MiB with garbage collection, hence the margin.
    expect(withConsumer.peakMiB - alone.peakMiB).toBeLessThan(withConsumer.sentMiB);
    consumer.destroy();
  });
});
