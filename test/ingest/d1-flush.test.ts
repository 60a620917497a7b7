import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type FrameSlice, MAX_CHUNK_SPAN_MS, MAX_SAMPLES_PER_CHUNK } from "../../src/storage/d1/chunk-rows";
import { readSamples } from "../../src/storage/d1/reader";
import { writeFlushBatch } from "../../src/storage/d1/writer";
import { frameSlice } from "../../src/storage/stream-state/frame-columns";

function piece(seq: number, count: number, offset: number, take: number, ch: string, dt = 1): FrameSlice {
  const samples = Array.from({ length: count }, (_, i) => ({ t: 1_000 + i * dt, ch, v: seq + i / 10 }));
  return frameSlice({ relayId: "r1", sessionId: "s1", seq }, samples, offset, offset + take);
}

const all = (userId: string) =>
  readSamples(env.DB, { userId, from: 0, to: 9e15, channels: null, limit: 10_000, position: null });

const chunkRows = (userId: string) =>
  env.DB.prepare(
    "SELECT ch, first_seq, first_idx, n, t_min, t_max FROM sample_chunks WHERE user_id = ? ORDER BY ch, first_seq, first_idx",
  )
    .bind(userId)
    .all()
    .then((r) => r.results);

describe("writeFlushBatch", () => {
  it("writes a batch as one chunk row per relay, session and channel; a replay inserts nothing twice", async () => {
    const user = "flush-pack";
    const longCh = "c".repeat(64);
    const pieces = [
      piece(1, 1_000, 0, 1_000, longCh),
      piece(2, 3_000, 1_000, 2_000, longCh),
      piece(3, 10, 0, 10, "b"),
    ];
    const written = await writeFlushBatch(env.DB, user, pieces, []);
    expect(written).toEqual({ sample_chunks: 2, sessions: 0, samples: 3_010 });
    expect(await chunkRows(user)).toEqual([
      { ch: "b", first_seq: 3, first_idx: 0, n: 10, t_min: 1_000, t_max: 1_009 },
      { ch: longCh, first_seq: 1, first_idx: 0, n: 3_000, t_min: 1_000, t_max: 3_999 },
    ]);
    // The cut piece keeps its samples' indexes within the frame (1000..2999).
    const read = await all(user);
    const seq2 = read.samples.filter((s) => s.seq === 2);
    expect([seq2.length, seq2[0]?.idx, seq2.at(-1)?.idx]).toEqual([2_000, 1_000, 2_999]);
    expect(seq2.find((s) => s.idx === 1_500)).toEqual({
      relay_id: "r1",
      session_id: "s1",
      seq: 2,
      idx: 1_500,
      t: 2_500,
      ch: longCh,
      v: 152,
    });

    await writeFlushBatch(env.DB, user, pieces, []);
    expect((await all(user)).samples).toHaveLength(3_010);
  });

  it("cuts a series at MAX_SAMPLES_PER_CHUNK samples and at MAX_CHUNK_SPAN_MS of t", async () => {
    const user = "flush-cut";
    const many = MAX_SAMPLES_PER_CHUNK + 100;
    await writeFlushBatch(env.DB, user, [piece(1, many, 0, many, "a")], []);
    expect((await chunkRows(user)).map((r) => r.n)).toEqual([MAX_SAMPLES_PER_CHUNK, 100]);
    const wide = "flush-span";
    await writeFlushBatch(env.DB, wide, [piece(1, 3, 0, 3, "a", MAX_CHUNK_SPAN_MS)], []);
    expect((await chunkRows(wide)).map((r) => [r.t_min, r.t_max])).toEqual([
      [1_000, 1_000 + MAX_CHUNK_SPAN_MS],
      [1_000 + 2 * MAX_CHUNK_SPAN_MS, 1_000 + 2 * MAX_CHUNK_SPAN_MS],
    ]);
  });

  it("upserts sessions: counts never shrink, the earliest start wins", async () => {
    const user = "flush-sessions";
    const row = {
      session_id: "s1",
      relay_id: "r1",
      started_at: 500,
      ended_at: null,
      sample_count: 10,
      version: 1,
    };
    await writeFlushBatch(env.DB, user, [], [row]);
    await writeFlushBatch(
      env.DB,
      user,
      [],
      [{ ...row, started_at: 900, ended_at: 1_000, sample_count: 4, version: 2 }],
    );
    const stored = await env.DB.prepare(
      "SELECT started_at, ended_at, sample_count FROM sessions WHERE user_id = ? AND session_id = 's1'",
    )
      .bind(user)
      .first();
    expect(stored).toEqual({ started_at: 500, ended_at: 1_000, sample_count: 10 });
  });
});
