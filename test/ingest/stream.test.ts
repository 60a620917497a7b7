import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { objectRows, readSamples, runFlush } from "../support/user-object";
import { connect, type Frame, samplesFrame } from "../support/ws-client";

describe("relay → consumer → D1", () => {
  it("streams several sessions: the consumer gets every frame in order, D1 gets exactly the acked samples", async () => {
    const user = "stream-alice";
    const consumer = await connect("consumer", user);
    const relay = await connect("relay", user);
    const sent: Frame[] = [];
    let seq = 0;
    for (const session of ["s1", "s2", "s3"]) {
      relay.send({ type: "session_start", session_id: session, relay_id: "r1" });
      for (let i = 0; i < 4; i++) {
        const frame = samplesFrame("r1", session, ++seq, 1 + (seq % 5));
        sent.push(frame);
        expect(await relay.request(frame)).toEqual({ type: "ack", seq });
      }
      relay.send({ type: "session_end", session_id: session });
    }
    // Fan-out: exactly the accepted frames, in acceptance order.
    expect(await consumer.take(sent.length)).toEqual(sent);
    // session_end has no reply: wait until the object has committed the last one.
    await vi.waitFor(async () =>
      expect(await objectRows(user, "SELECT session_id FROM sessions WHERE ended_at IS NULL")).toEqual([]),
    );

    expect(await runFlush(user)).toBe(true);
    const read = await readSamples(user, "?limit=10000");
    expect(read.status).toBe(200);
    const expected = sent.flatMap((f) =>
      f.samples.map((s: Frame, idx: number) => ({
        relay_id: "r1",
        session_id: f.session_id,
        seq: f.seq,
        idx,
        ...s,
      })),
    );
    expect(read.body.samples).toEqual(expected);
    expect(read.body).toMatchObject({ count: expected.length, has_more: false });

    const sessions = await env.DB.prepare(
      "SELECT session_id, relay_id, sample_count, ended_at IS NOT NULL AS ended FROM sessions WHERE user_id = ? ORDER BY session_id",
    )
      .bind(user)
      .all();
    const perSession = (id: string) => expected.filter((s) => s.session_id === id).length;
    expect(sessions.results).toEqual(
      ["s1", "s2", "s3"].map((id) => ({
        session_id: id,
        relay_id: "r1",
        sample_count: perSession(id),
        ended: 1,
      })),
    );
    // The buffer is empty and ended, fully written sessions are forgotten by the object.
    expect(await objectRows(user, "SELECT * FROM buffer_commits")).toEqual([]);
    expect(await objectRows(user, "SELECT * FROM sessions")).toEqual([]);
  });

  it("acks a resent seq again without storing it twice, and starts a session implicitly", async () => {
    const user = "stream-dup";
    const relay = await connect("relay", user);
    const frame = samplesFrame("r1", "implicit", 1, 2);
    expect(await relay.request(frame)).toEqual({ type: "ack", seq: 1 });
    expect(await relay.request(frame)).toEqual({ type: "ack", seq: 1 });
    expect(await relay.request(samplesFrame("r1", "implicit", 2, 1))).toEqual({ type: "ack", seq: 2 });
    // An acked seq with other content is not a duplicate: refused, nothing stored.
    expect(await relay.request(samplesFrame("r1", "implicit", 1, 5))).toMatchObject({
      type: "error",
      code: "invalid",
      seq: 1,
    });
    // Another relay of the same user has its own seq space.
    expect(await relay.request(samplesFrame("r2", "implicit", 1, 1))).toEqual({ type: "ack", seq: 1 });
    expect(
      await objectRows(user, "SELECT relay_id, seq, n FROM buffered_frames ORDER BY row_id, position"),
    ).toEqual([
      { relay_id: "r1", seq: 1, n: 2 },
      { relay_id: "r1", seq: 2, n: 1 },
      { relay_id: "r2", seq: 1, n: 1 },
    ]);
    await runFlush(user);
    expect((await readSamples(user)).body.count).toBe(4);
    const session = await env.DB.prepare("SELECT sample_count, ended_at FROM sessions WHERE user_id = ?")
      .bind(user)
      .first();
    expect(session).toEqual({ sample_count: 4, ended_at: null });
  });

  it("sends a new consumer the buffered samples newer than ?since= first, then live frames", async () => {
    const user = "stream-since";
    const relay = await connect("relay", user);
    const t0 = 1_763_700_000_000;
    const frames = [1, 2, 3].map((seq) => samplesFrame("r1", "s1", seq, 3, t0));
    for (const frame of frames) expect((await relay.request(frame)).type).toBe("ack");
    // Frame 2's samples are at t0+2000..t0+2002: since=t0+2000 keeps two of them, and all of frame 3.
    const consumer = await connect("consumer", user, { since: t0 + 2000 });
    const backlog = await consumer.take(2);
    expect(backlog[0]).toEqual({ ...frames[1], samples: frames[1]?.samples.slice(1) });
    expect(backlog[1]).toEqual(frames[2]);
    const live = samplesFrame("r1", "s1", 4, 1, t0);
    expect((await relay.request(live)).type).toBe("ack");
    expect(await consumer.next()).toEqual(live);
  });

  it("answers frames in the order they were sent, errors included", async () => {
    const relay = await connect("relay", "stream-order");
    relay.send(samplesFrame("r1", "s1", 1));
    relay.send({ ...samplesFrame("r1", "s1", 2), samples: [{ t: 1, ch: "hr", v: "fast" }] });
    relay.send(samplesFrame("r1", "s1", 2));
    relay.send(samplesFrame("r1", "s1", 1));
    relay.send(samplesFrame("r1", "s1", 3));
    const replies = await relay.take(5);
    expect(replies.map((r) => `${r.type}:${r.seq}`)).toEqual(["ack:1", "error:2", "ack:2", "ack:1", "ack:3"]);
  });

  it("answers pings with pong, whether the runtime or the object answers", async () => {
    const relay = await connect("relay", "stream-ping");
    expect(await relay.request('{"type":"ping"}')).toEqual({ type: "pong" });
    expect(await relay.request('{ "type" : "ping" }')).toEqual({ type: "pong" });
    const consumer = await connect("consumer", "stream-ping");
    expect(await consumer.request({ type: "ping", extra: 1 })).toEqual({ type: "pong" });
    expect(await consumer.request(samplesFrame("r1", "s1", 1))).toMatchObject({
      type: "error",
      code: "invalid",
      seq: 1,
      message: "type: a consumer sends only ping",
    });
  });
});
