import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MAX_JSON_PARAM_CHARS, writeFlushBatch } from "../../src/storage/d1/writer";
import type { FlushPiece } from "../../src/storage/object/sample-buffer";

function piece(seq: number, count: number, offset: number, take: number, ch: string): FlushPiece {
  const samples = Array.from({ length: count }, (_, i) => ({ t: 1_000 + i, ch, v: seq + i / 10 }));
  const samplesJson = JSON.stringify(samples);
  return {
    frame: { id: seq, relayId: "r1", sessionId: "s1", seq, count, flushed: offset, samplesJson },
    offset,
    count: take,
  };
}

describe("writeFlushBatch", () => {
  it("packs thousands of samples into a few statements, each JSON parameter within the limit", async () => {
    const user = "flush-pack";
    const longCh = "c".repeat(64);
    // 3,000 samples with 64-character channels: ~330 KB of JSON, more than three parameters' worth.
    const pieces = [piece(1, 1_000, 0, 1_000, longCh), piece(2, 3_000, 1_000, 2_000, longCh)];
    expect(pieces[1]?.frame.samplesJson.length).toBeGreaterThan(MAX_JSON_PARAM_CHARS);
    const written = await writeFlushBatch(env.DB, user, pieces, []);
    expect(written.samples).toBe(3_000);
    const rows = await env.DB.prepare(
      "SELECT seq, COUNT(*) AS n, MIN(idx) AS lo, MAX(idx) AS hi FROM samples WHERE user_id = ? GROUP BY seq ORDER BY seq",
    )
      .bind(user)
      .all();
    // The cut piece keeps its samples' indexes within the frame (1000..2999).
    expect(rows.results).toEqual([
      { seq: 1, n: 1_000, lo: 0, hi: 999 },
      { seq: 2, n: 2_000, lo: 1_000, hi: 2_999 },
    ]);
    const sample = await env.DB.prepare(
      "SELECT t, ch, v FROM samples WHERE user_id = ? AND seq = 2 AND idx = 1500",
    )
      .bind(user)
      .first();
    expect(sample).toEqual({ t: 2_500, ch: longCh, v: 152 });

    // Replaying the same batch inserts nothing twice.
    await writeFlushBatch(env.DB, user, pieces, []);
    expect(
      await env.DB.prepare("SELECT COUNT(*) AS n FROM samples WHERE user_id = ?").bind(user).first("n"),
    ).toBe(3_000);
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
