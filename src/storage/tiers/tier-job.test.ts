import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { flushAll, readAllSamples } from "../../../test/support/user-object";
import { BASE, connect, tokenFor } from "../../../test/support/ws-client";
import { writeFlushBatch } from "../d1/writer";
import { frameSlice } from "../stream-state/frame-columns";
import { ORPHAN_GRACE_MS } from "./orphan-sweep";
import { runTierJob } from "./tier-job";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Samples of three days, 2026-11-01 to 11-03 (UTC), long before "now". */
const T0 = Date.UTC(2026, 10, 1);
const NOW = T0 + 30 * DAY;

/** A 3-axis sensor: `frames` frames of `per` samples each per axis, 10 s apart, flushed after each few frames. */
async function stream(user: string, frames: number, per = 4): Promise<void> {
  const relay = await connect("relay", user);
  for (let seq = 1; seq <= frames; seq++) {
    const t = T0 + (seq - 1) * 10 * 60_000;
    const samples = ["x", "y", "z"].flatMap((axis, a) =>
      Array.from({ length: per }, (_, i) => ({
        t: t + i * 80,
        ch: `accel_${axis}`,
        v: Math.round(Math.sin(seq + i + a) * 4096),
      })),
    );
    expect(await relay.request({ type: "samples", relay_id: "r1", session_id: "s1", seq, samples })).toEqual({
      type: "ack",
      seq,
    });
    if (seq % 3 === 0) await flushAll(user);
  }
  await flushAll(user);
  relay.close();
}

const count = async (sql: string, ...params: unknown[]) =>
  (
    await env.DB.prepare(sql)
      .bind(...params)
      .first<{ n: number }>()
  )?.n ?? 0;

const job = (coldAfterS: number, retentionDays = 0, now = NOW) =>
  runTierJob({ db: env.DB, cold: env.COLD, coldAfterS, retentionDays }, now);

async function runUntilDone(coldAfterS: number, retentionDays = 0, now = NOW): Promise<void> {
  for (let i = 0; i < 20; i++) {
    const report = await job(coldAfterS, retentionDays, now);
    expect(report.results.every((r) => r.ok)).toBe(true);
    if (report.merged === 0 && report.moved === 0 && report.deletedChunks === 0) return;
  }
}

describe("the storage tier job", () => {
  it("merges small chunks, moves them to R2, and every sample reads back the same, exactly once", async () => {
    const user = "tiers-all";
    await stream(user, 36);
    const before = await readAllSamples(user);
    expect(before).toHaveLength(36 * 12);
    const warmBefore = await count("SELECT COUNT(*) AS n FROM sample_chunks WHERE user_id = ?", user);

    await runUntilDone(365 * 86_400);
    const warmAfter = await count("SELECT COUNT(*) AS n FROM sample_chunks WHERE user_id = ?", user);
    expect(warmAfter).toBeLessThanOrEqual(warmBefore / 2);
    expect(await readAllSamples(user)).toEqual(before);

    await runUntilDone(86_400);
    expect(await count("SELECT COUNT(*) AS n FROM sample_chunks WHERE user_id = ?", user)).toBe(0);
    expect(await count("SELECT COUNT(*) AS n FROM cold_chunks WHERE user_id = ?", user)).toBe(warmAfter);
    const objects = await env.DB.prepare("SELECT object_key, bytes FROM cold_objects WHERE user_id = ?")
      .bind(user)
      .all<{ object_key: string; bytes: number }>();
    expect(objects.results.length).toBeGreaterThan(0);
    for (const o of objects.results) expect((await env.COLD.head(o.object_key))?.size).toBe(o.bytes);
    expect(await readAllSamples(user)).toEqual(before);
    expect(await count("SELECT COUNT(*) AS n FROM cold_pending WHERE user_id = ?", user)).toBe(0);
  });

  it("deletes the object of a move that crashed before indexing it, once the grace has passed", async () => {
    // What a crash between the R2 put and the indexing batch leaves: a pending key and an object nothing reads.
    const user = "tiers-orphan";
    const left = async (key: string, startedAt: number) => {
      await env.COLD.put(key, new Uint8Array([1, 2, 3]));
      await env.DB.prepare("INSERT INTO cold_pending (object_key, user_id, started_at) VALUES (?, ?, ?)")
        .bind(key, user, startedAt)
        .run();
    };
    const old = `cold/${user}/2026-11-01/old.zec`;
    const fresh = `cold/${user}/2026-11-01/fresh.zec`;
    await left(old, NOW - ORPHAN_GRACE_MS - 1);
    await left(fresh, NOW - 1_000); // a move still under way, perhaps
    const report = await job(365 * 86_400);
    expect(report.results.every((r) => r.ok)).toBe(true);
    expect(report.orphans).toBeGreaterThanOrEqual(1);
    expect(await env.COLD.head(old)).toBeNull();
    expect(await env.COLD.head(fresh)).not.toBeNull();
    expect(
      (await env.DB.prepare("SELECT object_key FROM cold_pending WHERE user_id = ?").bind(user).all())
        .results,
    ).toEqual([{ object_key: fresh }]);
  });

  it("retention deletes exactly the chunks older than RETENTION_DAYS, from both tiers", async () => {
    const user = "tiers-retention";
    await stream(user, 36); // 6 hours of samples
    await runUntilDone(365 * 86_400);
    const before = await readAllSamples(user);
    // Move what is older than T0 + 3 h to R2, keep the rest warm; then cut at T0 + 2 h.
    await runUntilDone((NOW - (T0 + 3 * HOUR)) / 1000);
    const cutoff = T0 + 2 * HOUR;
    const days = Math.ceil((NOW - cutoff) / DAY);
    const now = cutoff + days * DAY;
    await runUntilDone(365 * 86_400, days, now);
    const after = await readAllSamples(user);
    // Whole chunks go: every sample at or after the cutoff stays, and nothing of a chunk wholly before it.
    expect(after.filter((s) => Number(s.t) >= cutoff)).toEqual(before.filter((s) => Number(s.t) >= cutoff));
    expect(after.length).toBeLessThan(before.length);
    const oldest = await count(
      "SELECT MIN(t_max) AS n FROM (SELECT t_max FROM sample_chunks WHERE user_id = ?1 UNION ALL SELECT t_max FROM cold_chunks WHERE user_id = ?1)",
      user,
    );
    expect(oldest).toBeGreaterThanOrEqual(cutoff);
  });

  it("a flush retried after its chunks were merged inserts nothing (flush marks)", async () => {
    const user = "tiers-retry";
    const pieces = [1, 2, 3].map((seq) =>
      frameSlice({ relayId: "r1", sessionId: "s1", seq }, [
        { t: T0 + seq * 1000, ch: "a", v: seq },
        { t: T0 + seq * 1000 + 1, ch: "a", v: -seq },
      ]),
    );
    await writeFlushBatch(env.DB, user, pieces.slice(0, 1), [], "flush-1");
    await writeFlushBatch(env.DB, user, pieces.slice(1), [], "flush-2");
    await env.DB.prepare(
      "INSERT INTO sessions (user_id, session_id, relay_id, started_at) VALUES (?, 's1', 'r1', 0)",
    )
      .bind(user)
      .run();
    await runUntilDone(365 * 86_400);
    expect(await count("SELECT COUNT(*) AS n FROM sample_chunks WHERE user_id = ?", user)).toBe(1);
    // The answer of flush-2 was lost: the object writes the same selection again.
    await writeFlushBatch(env.DB, user, pieces.slice(1), [], "flush-2");
    expect(await readAllSamples(user)).toHaveLength(6);
  });

  it("DELETE /v1/users/:user_id/data (admin) erases every tier and the buffer; reads return nothing", async () => {
    const user = "tiers-erase";
    await stream(user, 12);
    await runUntilDone(86_400);
    const relay = await connect("relay", user);
    // One frame still in the buffer when the erasure comes.
    const late = {
      type: "samples",
      relay_id: "r1",
      session_id: "s2",
      seq: 99,
      samples: [{ t: NOW, ch: "a", v: 1 }],
    };
    expect(await relay.request(late)).toEqual({ type: "ack", seq: 99 });
    const keys = (
      await env.DB.prepare("SELECT object_key FROM cold_objects WHERE user_id = ?")
        .bind(user)
        .all<{ object_key: string }>()
    ).results;
    expect(keys.length).toBeGreaterThan(0);
    // And an object a crashed move left unindexed: it holds the user's samples too.
    const orphan = `cold/${user}/2026-11-02/crashed.zec`;
    await env.COLD.put(orphan, new Uint8Array([1]));
    await env.DB.prepare("INSERT INTO cold_pending (object_key, user_id, started_at) VALUES (?, ?, ?)")
      .bind(orphan, user, Date.now())
      .run();

    const refused = await exports.default.fetch(`${BASE}/v1/users/${user}/data`, {
      method: "DELETE",
      headers: { Authorization: `Bearer ${await tokenFor(user, "consumer")}` },
    });
    expect(refused.status).toBe(403);
    const res = await exports.default.fetch(`${BASE}/v1/users/${user}/data`, {
      method: "DELETE",
      headers: { Authorization: `Bearer ${await tokenFor(user, "admin")}` },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { deleted: Record<string, number> };
    expect(body.deleted.buffered_samples).toBe(1);
    expect(body.deleted.cold_objects).toBe(keys.length + 1);
    expect(await env.COLD.head(orphan)).toBeNull();
    expect(body.deleted.cold_chunks).toBeGreaterThan(0);
    expect(await readAllSamples(user)).toEqual([]);
    await flushAll(user);
    expect(await readAllSamples(user)).toEqual([]);
    for (const { object_key } of keys) expect(await env.COLD.head(object_key)).toBeNull();
    expect(await count("SELECT COUNT(*) AS n FROM sessions WHERE user_id = ?", user)).toBe(0);
    // A relay resending an erased frame is acked, and it stays erased.
    expect(await relay.request(late)).toEqual({ type: "ack", seq: 99 });
    await flushAll(user);
    expect(await readAllSamples(user)).toEqual([]);
  });
});
