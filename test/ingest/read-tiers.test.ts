import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ChunkSample } from "../../src/storage/chunk/chunk-codec";
import { type ReadPosition, readSamples, type StoredSample } from "../../src/storage/d1/reader";
import { readSeries } from "../../src/storage/d1/series-reader";
import { mergeWarm, moveToCold, putWarmChunks, type TestChunk } from "../support/tiers";

interface Frame {
  relay: string;
  session: string;
  seq: number;
  samples: { t: number; ch: string; v: number }[];
}

/** Frames of two relays and two sessions with t in a narrow window: many ties on t across sessions and relays. */
const framesArb = fc
  .array(
    fc.record({
      relay: fc.constantFrom("ra", "rb"),
      session: fc.constantFrom("s1", "s2"),
      samples: fc.array(
        fc.record({
          t: fc.integer({ min: 0, max: 40 }),
          ch: fc.constantFrom("x", "y"),
          v: fc.integer({ min: -50, max: 50 }),
        }),
        { minLength: 1, maxLength: 6 },
      ),
    }),
    { minLength: 1, maxLength: 12 },
  )
  .map((frames) => {
    const seqs = new Map<string, number>();
    return frames.map((f): Frame => {
      const seq = (seqs.get(f.relay) ?? 0) + 1;
      seqs.set(f.relay, seq);
      return { ...f, seq };
    });
  });

/** The frames' chunks: per (relay, session, channel) in (seq, idx) order, cut into pieces of `cut` samples. */
function chunksOf(frames: Frame[], cut: number): TestChunk[] {
  const groups = new Map<string, TestChunk>();
  for (const f of frames) {
    f.samples.forEach(({ t, ch, v }, idx) => {
      const key = `${f.relay}/${f.session}/${ch}`;
      const g = groups.get(key) ?? { relay: f.relay, session: f.session, ch, samples: [] as ChunkSample[] };
      g.samples.push({ seq: f.seq, idx, t, v });
      groups.set(key, g);
    });
  }
  return [...groups.values()].flatMap((g) =>
    Array.from({ length: Math.ceil(g.samples.length / cut) }, (_, i) => ({
      ...g,
      samples: g.samples.slice(i * cut, (i + 1) * cut),
    })),
  );
}

function naiveSamples(frames: Frame[]): StoredSample[] {
  return frames
    .flatMap((f) =>
      f.samples.map(({ t, ch, v }, idx) => ({
        relay_id: f.relay,
        session_id: f.session,
        seq: f.seq,
        idx,
        t,
        ch,
        v,
      })),
    )
    .sort(
      (a, b) =>
        a.t - b.t ||
        (a.relay_id < b.relay_id ? -1 : a.relay_id > b.relay_id ? 1 : 0) ||
        a.seq - b.seq ||
        a.idx - b.idx,
    );
}

function naiveSeries(frames: Frame[], ch: string, from: number, step: number) {
  const buckets = new Map<number, StoredSample[]>();
  for (const s of naiveSamples(frames).filter((s) => s.ch === ch)) {
    const b = Math.floor((s.t - from) / step);
    buckets.set(b, [...(buckets.get(b) ?? []), s]);
  }
  return [...buckets]
    .sort(([a], [b]) => a - b)
    .map(([b, list]) => ({
      t: from + b * step,
      count: list.length,
      min: Math.min(...list.map((s) => s.v)),
      max: Math.max(...list.map((s) => s.v)),
      mean: list.reduce((sum, s) => sum + s.v, 0) / list.length,
      first: list[0]?.v,
      last: list.at(-1)?.v,
    }));
}

async function pageAll(user: string, limit: number): Promise<StoredSample[]> {
  const out: StoredSample[] = [];
  let position: ReadPosition | null = null;
  do {
    const page = await readSamples(
      env.DB,
      { userId: user, from: 0, to: 1_000, channels: null, limit, position },
      env.COLD,
    );
    out.push(...page.samples);
    position = page.next;
  } while (position);
  return out;
}

let run = 0;

describe("one read path across tiers", () => {
  it("series first/last/count/min/max/mean equal a naive computation, ties on t across sessions and relays, warm or cold", async () => {
    await fc.assert(
      fc.asyncProperty(
        framesArb,
        fc.integer({ min: 1, max: 4 }),
        fc.constantFrom(1, 5, 20, 1_000),
        fc.boolean(),
        async (frames, cut, step, cold) => {
          const user = `tiers-series-${++run}`;
          await putWarmChunks(user, chunksOf(frames, cut));
          if (cold) await moveToCold(user, 0, 20);
          const { series, errors } = await readSeries(
            env.DB,
            { userId: user, from: 0, to: 1_000, step, channels: ["x", "y"] },
            env.COLD,
          );
          expect(errors).toEqual([]);
          expect(series).toEqual(["x", "y"].map((ch) => ({ ch, buckets: naiveSeries(frames, ch, 0, step) })));
          expect(await pageAll(user, 3)).toEqual(naiveSamples(frames));
        },
      ),
      { numRuns: 40 },
    );
  });

  it("the first/last shortcut is not taken when two sessions of one relay tie on the bucket's edge t", async () => {
    const user = "tiers-tie";
    // Session s2's chunk holds seq 1 (v 10) and s1's holds seq 2 (v 20), both at t 5: first is seq 1, last seq 2.
    await putWarmChunks(user, [
      { relay: "r", session: "s1", ch: "x", samples: [{ seq: 2, idx: 0, t: 5, v: 20 }] },
      { relay: "r", session: "s2", ch: "x", samples: [{ seq: 1, idx: 0, t: 5, v: 10 }] },
    ]);
    const { series, chunksDecoded } = await readSeries(
      env.DB,
      { userId: user, from: 0, to: 100, step: 100, channels: ["x"] },
      env.COLD,
    );
    expect(series[0]?.buckets).toEqual([{ t: 0, count: 2, min: 10, max: 20, mean: 15, first: 10, last: 20 }]);
    expect(chunksDecoded).toBe(2);
  });

  it("pages identically across a warm/cold boundary and when chunks move between two pages", async () => {
    const user = "tiers-move";
    const frames: Frame[] = Array.from({ length: 30 }, (_, i) => ({
      relay: i % 3 === 0 ? "ra" : "rb",
      session: i % 2 ? "s1" : "s2",
      seq: i + 1,
      samples: [
        { t: i * 20, ch: "x", v: i },
        { t: i * 20 + 5, ch: "y", v: -i },
        { t: i * 20 + 5, ch: "x", v: i + 0.5 },
      ],
    }));
    await putWarmChunks(user, chunksOf(frames, 4));
    const whole = naiveSamples(frames);
    expect(await pageAll(user, 7)).toEqual(whole);
    // The older half cold, the rest warm: one answer across the boundary.
    await moveToCold(user, 0, 300);
    expect(await pageAll(user, 7)).toEqual(whole);
    // A move between two pages: the cursor is a sample position, so the second page continues exactly.
    const first = await readSamples(
      env.DB,
      { userId: user, from: 0, to: 1_000, channels: null, limit: 40, position: null },
      env.COLD,
    );
    await moveToCold(user);
    const rest: StoredSample[] = [];
    let position = first.next;
    while (position) {
      const page = await readSamples(
        env.DB,
        { userId: user, from: 0, to: 1_000, channels: null, limit: 40, position },
        env.COLD,
      );
      rest.push(...page.samples);
      position = page.next;
    }
    expect([...first.samples, ...rest]).toEqual(whole);
  });

  it("pages exactly when compaction merges the chunks read by one page with those of the next", async () => {
    const user = "tiers-merge";
    const frames: Frame[] = Array.from({ length: 40 }, (_, i) => ({
      relay: i % 2 ? "ra" : "rb",
      session: "s1",
      seq: i + 1,
      samples: [
        { t: 1_000 + (i % 20) * 10, ch: "x", v: i },
        { t: 1_000 + (i % 20) * 10, ch: "y", v: -i },
      ],
    }));
    await putWarmChunks(user, chunksOf(frames, 1));
    const page = (position: ReadPosition | null) =>
      readSamples(
        env.DB,
        { userId: user, from: 0, to: 5_000, channels: null, limit: 15, position },
        env.COLD,
      );
    const first = await page(null);
    await mergeWarm(user);
    const { n } = (await env.DB.prepare("SELECT COUNT(*) AS n FROM sample_chunks WHERE user_id = ?")
      .bind(user)
      .first<{ n: number }>()) as { n: number };
    expect(n).toBe(4);
    const got = [...first.samples];
    for (let position = first.next; position; ) {
      const next = await page(position);
      got.push(...next.samples);
      position = next.next;
    }
    expect(got).toEqual(naiveSamples(frames));
  });

  it("re-lists from the same position when a cold object vanished between the index read and the fetch", async () => {
    const user = "tiers-vanished";
    const frames: Frame[] = [{ relay: "ra", session: "s1", seq: 1, samples: [{ t: 5, ch: "x", v: 1 }] }];
    await putWarmChunks(user, chunksOf(frames, 1));
    await moveToCold(user);
    let gets = 0;
    // The first range read finds nothing (a move or merge replaced the object meanwhile); the next one does.
    const flaky = {
      get: (key: string, options: R2GetOptions) =>
        ++gets === 1 ? Promise.resolve(null) : env.COLD.get(key, options),
    } as unknown as R2Bucket;
    const page = await readSamples(
      env.DB,
      { userId: user, from: 0, to: 100, channels: null, limit: 10, position: null },
      flaky,
    );
    expect(page.samples.map((s) => s.v)).toEqual([1]);
    expect(gets).toBe(2);
  });
});
