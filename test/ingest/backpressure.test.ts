import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { objectRows, runFlush } from "../support/user-object";
import { connect, samplesFrame } from "../support/ws-client";

// wrangler.toml: BUFFER_CAPACITY 10000, FLUSH_BATCH_SIZE 2000, MAX_SAMPLES_PER_FRAME 10000.
describe("bounded buffer", () => {
  it("answers buffer_full with retry_after_ms when a frame does not fit, and accepts it after a flush", async () => {
    const user = "full-buffer";
    const relay = await connect("relay", user);
    expect(await relay.request(samplesFrame("r1", "s1", 1, 9_999))).toEqual({ type: "ack", seq: 1 });
    expect(await relay.request(samplesFrame("r1", "s1", 2, 1))).toEqual({ type: "ack", seq: 2 });

    const refused = await relay.request(samplesFrame("r1", "s1", 3, 1));
    expect(refused).toMatchObject({ type: "error", code: "buffer_full", seq: 3 });
    expect(refused.retry_after_ms).toBeGreaterThan(0);
    expect(refused.message).toContain("10000 of 10000");

    // One alarm writes the whole buffer in FLUSH_BATCH_SIZE batches; the 9,999-sample frame is cut across them.
    expect(await runFlush(user)).toBe(true);
    expect(await objectRows(user, "SELECT * FROM buffer")).toEqual([]);
    const stored = await env.DB.prepare(
      "SELECT COUNT(*) AS n, COUNT(DISTINCT idx) AS idxs, MAX(idx) AS top FROM samples WHERE user_id = ? AND seq = 1",
    )
      .bind(user)
      .first();
    expect(stored).toEqual({ n: 9_999, idxs: 9_999, top: 9_998 });

    expect(await relay.request(samplesFrame("r1", "s1", 3, 1))).toEqual({ type: "ack", seq: 3 });
  });

  it("derives retry_after_ms from the next flush, counting frames not yet committed", async () => {
    const relay = await connect("relay", "full-burst");
    // Sent in one burst: the second frame is refused while the first still waits for its commit. That first
    // frame completes a FLUSH_BATCH_SIZE batch, so the flush is immediate: retry soon, not after an interval.
    relay.send(samplesFrame("r1", "s1", 1, 9_999));
    relay.send(samplesFrame("r1", "s1", 2, 10));
    const [first, second] = await relay.take(2);
    expect(first).toEqual({ type: "ack", seq: 1 });
    expect(second).toMatchObject({ type: "error", code: "buffer_full", seq: 2 });
    expect(second?.retry_after_ms).toBeLessThanOrEqual(200);
  });
});
