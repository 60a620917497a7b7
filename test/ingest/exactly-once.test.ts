import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { breakD1For, repairD1For } from "../support/d1-fault";
import { objectRows, readSamples, runFlush } from "../support/user-object";
import { connect, type Frame, samplesFrame } from "../support/ws-client";

const CAPACITY = Number(env.BUFFER_CAPACITY);
const FRAME_LIMIT = Number(env.MAX_SAMPLES_PER_FRAME);

/** Fills the user's buffer to the last sample with frames of relay `relayId`. */
async function fillBuffer(user: string, relayId: string): Promise<void> {
  const relay = await connect("relay", user);
  let seq = 0;
  for (let left = CAPACITY; left > 0; left -= FRAME_LIMIT) {
    seq++;
    expect(await relay.request(samplesFrame(relayId, "fill", seq, Math.min(left, FRAME_LIMIT)))).toEqual({
      type: "ack",
      seq,
    });
  }
  relay.close();
}

describe("an ack means stored, exactly once (docs/protocol.md)", () => {
  it("a frame refused buffer_full, then stored on resend, stays a duplicate after a reconnect", async () => {
    const user = "once-refused-resend";
    await breakD1For(user); // the flush is held until the buffer has filled
    await fillBuffer(user, "rA");
    const consumer = await connect("consumer", user);
    const relay = await connect("relay", user);
    const frame = samplesFrame("rB", "sB", 1, 3);
    expect(await relay.request(frame)).toMatchObject({ type: "error", code: "buffer_full", seq: 1 });

    await repairD1For(user);
    await runFlush(user);
    expect(await relay.request(frame)).toEqual({ type: "ack", seq: 1 });
    relay.close();
    const again = await connect("relay", user);
    expect(await again.request(frame)).toEqual({ type: "ack", seq: 1 });
    // A marker frame: everything fanned out before it is all the consumer will get of rB/1.
    expect(await again.request(samplesFrame("rB", "sB", 2, 1))).toEqual({ type: "ack", seq: 2 });

    const fanned = (await consumer.take(2)).map((f: Frame) => `${f.relay_id}/${f.seq}`);
    expect(fanned).toEqual(["rB/1", "rB/2"]);
    await runFlush(user);
    const stored = await readSamples(user, "?limit=10000&from=0");
    const rB = stored.body.samples.filter((s) => s.relay_id === "rB");
    expect(rB.map((s) => `${s.seq}/${s.idx}`)).toEqual(["1/0", "1/1", "1/2", "2/0"]);
    const sessions = await env.DB.prepare(
      "SELECT sample_count FROM sessions WHERE user_id = ? AND session_id = 'sB'",
    )
      .bind(user)
      .first();
    expect(sessions).toEqual({ sample_count: 4 });
  });

  it("stores a relay's restarted numbering: seq 2^53-1 then seq 1 are both acked and both stored", async () => {
    const user = "once-restart";
    const relay = await connect("relay", user);
    const top = Number.MAX_SAFE_INTEGER;
    const frame = (session: string, seq: number) => ({ ...samplesFrame("r1", session, 1, 2), seq });
    expect(await relay.request(frame("s1", top))).toEqual({ type: "ack", seq: top });
    expect(await relay.request(frame("s2", 1))).toEqual({ type: "ack", seq: 1 });
    expect(await relay.request(frame("s2", 2))).toEqual({ type: "ack", seq: 2 });
    // Duplicates of either numbering are acked again and not stored twice.
    expect(await relay.request(frame("s1", top))).toEqual({ type: "ack", seq: top });
    expect(await relay.request(frame("s2", 1))).toEqual({ type: "ack", seq: 1 });
    await runFlush(user);
    const stored = await readSamples(user, "?limit=100");
    expect(stored.body.samples.map((s) => s.seq).sort((a, b) => Number(a) - Number(b))).toEqual([
      1,
      1,
      2,
      2,
      top,
      top,
    ]);
  });

  it("stores never-acked seqs in any order and acks each duplicate again", async () => {
    const user = "once-any-order";
    const relay = await connect("relay", user);
    for (const seq of [5, 3, 9, 4, 1]) {
      expect(await relay.request(samplesFrame("r1", "s1", seq))).toEqual({ type: "ack", seq });
    }
    for (const seq of [9, 1, 3]) {
      expect(await relay.request(samplesFrame("r1", "s1", seq))).toEqual({ type: "ack", seq });
    }
    // Until the flush the buffer rows are the acks' record; then the seqs move to ranges.
    expect(await objectRows(user, "SELECT seq FROM buffered_frames ORDER BY row_id, position")).toEqual(
      [5, 3, 9, 4, 1].map((seq) => ({ seq })),
    );
    await runFlush(user);
    const ranges = await objectRows(
      user,
      "SELECT lo, hi FROM acked_ranges WHERE relay_id = 'r1' ORDER BY lo",
    );
    expect(ranges).toEqual([
      { lo: 1, hi: 1 },
      { lo: 3, hi: 5 },
      { lo: 9, hi: 9 },
    ]);
    for (const seq of [9, 1, 3]) {
      expect(await relay.request(samplesFrame("r1", "s1", seq))).toEqual({ type: "ack", seq });
    }
    expect((await readSamples(user, "?limit=100")).body.count).toBe(5);
  });

  it("a relay that restarts its numbering is refused, never acked and dropped; a true resend is acked", async () => {
    const user = "once-restarted-relay";
    const relay = await connect("relay", user);
    const t0 = 1_763_700_000_000;
    for (let seq = 1; seq <= 50; seq++) {
      expect(await relay.request(samplesFrame("r1", "first", seq, 2, t0))).toEqual({ type: "ack", seq });
    }
    await runFlush(user); // half in D1 (released), half still buffered below: both must be checked
    for (let seq = 51; seq <= 60; seq++) {
      expect(await relay.request(samplesFrame("r1", "first", seq, 2, t0))).toEqual({ type: "ack", seq });
    }
    // The relay restarts: seq 1 again, a new session and new samples. Every frame is refused, naming why.
    for (let seq = 1; seq <= 60; seq++) {
      const reply = await relay.request(samplesFrame("r1", "second", seq, 2, t0 + 3_600_000));
      expect(reply).toMatchObject({ type: "error", code: "invalid", seq });
      expect(reply.message).toMatch(/already acked .*other content.*new relay_id/);
    }
    // A true resend (same session, same samples) is a duplicate: acked again, stored once.
    for (const seq of [1, 50, 55]) {
      expect(await relay.request(samplesFrame("r1", "first", seq, 2, t0))).toEqual({ type: "ack", seq });
    }
    // The same seq with the same samples but spelled otherwise is the same frame.
    const spelled = JSON.stringify(
      JSON.parse(JSON.stringify(samplesFrame("r1", "first", 2, 2, t0))),
      null,
      2,
    );
    expect(await relay.request(spelled)).toEqual({ type: "ack", seq: 2 });
    await runFlush(user);
    const stored = await readSamples(user, "?limit=1000");
    expect(stored.body.count).toBe(60 * 2);
    expect(new Set(stored.body.samples.map((s) => s.session_id))).toEqual(new Set(["first"]));
  });
});
