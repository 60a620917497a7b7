import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  READ_CHUNK_BUDGET,
  type ReadPosition,
  readSamples,
  type StoredSample,
} from "../../src/storage/d1/reader";
import { readSeries, SERIES_CHUNK_BUDGET } from "../../src/storage/d1/series-reader";
import { moveToCold, putWarmChunks, type TestChunk } from "../support/tiers";
import { readSamples as getSamples, readAllSamples } from "../support/user-object";
import { BASE, tokenFor } from "../support/ws-client";

const CHUNKS = 2_000;
/** One-sample chunks, as 10,000-channel frames leave them (the 50,000-chunk case at a smaller scale). */
const oneSampleChunks = (): TestChunk[] =>
  Array.from({ length: CHUNKS }, (_, i) => ({
    relay: "r1",
    session: "s1",
    ch: `c${i % 500}`,
    samples: [{ seq: 1 + Math.floor(i / 500), idx: i % 500, t: 10_000 + i * 10, v: i }],
  }));

const read = (user: string, limit: number, position: ReadPosition | null) =>
  readSamples(env.DB, { userId: user, from: 0, to: 1e13, channels: null, limit, position }, env.COLD);

describe("read cost is bounded by the answer, not by what lies before it", () => {
  it("stops at the chunk budget with a cursor, seeks a cursor in SQL, and pages every sample exactly once", async () => {
    const user = "cost-one-sample";
    await putWarmChunks(user, oneSampleChunks());

    const first = await read(user, 10_000, null);
    expect(first.chunksDecoded).toBeLessThanOrEqual(READ_CHUNK_BUDGET + 64);
    expect(first.samples.length).toBeGreaterThan(0);
    expect(first.samples.length).toBeLessThan(10_000);
    expect(first.next).not.toBeNull();

    // A forged cursor at the end of the range: nothing before it is selected, nothing decoded.
    const end = await read(user, 1_000, [10_000 + CHUNKS * 10, "zzzz", 1, 0]);
    expect(end).toMatchObject({ samples: [], next: null, chunksDecoded: 0 });
    // A cursor three quarters in decodes about one round, not the three quarters before it.
    const late = await read(user, 50, [10_000 + 1_500 * 10, "r1", 4, 0]);
    expect(late.chunksDecoded).toBeLessThanOrEqual(65);
    expect(late.samples[0]?.t).toBe(10_000 + 1_501 * 10);

    const all: StoredSample[] = [];
    let position: ReadPosition | null = null;
    let pages = 0;
    do {
      const page = await read(user, 10_000, position);
      expect(page.chunksDecoded).toBeLessThanOrEqual(READ_CHUNK_BUDGET + 64);
      all.push(...page.samples);
      position = page.next;
      pages++;
    } while (position);
    expect(all.map((s) => s.v)).toEqual(Array.from({ length: CHUNKS }, (_, i) => i));
    // Over HTTP: a page cut by the budget says has_more with a cursor although it holds fewer than `limit`.
    const http = await getSamples(user, "?limit=10000");
    expect(http.body).toMatchObject({ has_more: true, next_cursor: expect.any(String) });
    expect(http.body.count).toBeLessThan(10_000);
    expect((await readAllSamples(user)).length).toBe(CHUNKS);
    console.log(
      `one-sample chunks: ${CHUNKS} samples in ${pages} pages of at most ${READ_CHUNK_BUDGET} decodes`,
    );
  });

  it("pages the same from the cold tier, and /series adds one-bucket chunks from their statistics alone", async () => {
    const user = "cost-cold";
    await putWarmChunks(user, oneSampleChunks());
    const series = (n: number) =>
      readSeries(
        env.DB,
        { userId: user, from: 0, to: 1e6, step: 100_000, channels: ["c1", "c2"] },
        env.COLD,
      ).then((s) => {
        expect(s.chunksDecoded).toBe(n);
        return s.series;
      });
    const warmSeries = await series(0);
    expect(await moveToCold(user)).toBe(CHUNKS);
    expect(await series(0)).toEqual(warmSeries);
    const end = await read(user, 1_000, [10_000 + CHUNKS * 10, "zzzz", 1, 0]);
    expect(end.chunksDecoded).toBe(0);
    // Neighbouring chunks of one object are fetched by one R2 range read per round, not one per chunk.
    let gets = 0;
    const counting = {
      get: (key: string, options: R2GetOptions) => {
        gets++;
        return env.COLD.get(key, options);
      },
    } as unknown as R2Bucket;
    const one = await readSamples(
      env.DB,
      { userId: user, from: 0, to: 1e13, channels: null, limit: 64, position: null },
      counting,
    );
    expect(one.samples).toHaveLength(64);
    expect(gets).toBe(1);
    const all: number[] = [];
    let position: ReadPosition | null = null;
    do {
      const page = await read(user, 700, position);
      all.push(...page.samples.map((s) => s.v));
      position = page.next;
    } while (position);
    expect(all).toEqual(Array.from({ length: CHUNKS }, (_, i) => i));
  });

  it("ends a /series answer at a bucket edge past its chunk budget; following next_from gives every bucket", async () => {
    // 150 chunks of two samples 600 ms apart, each crossing a 500 ms bucket edge: all must be decoded.
    const user = "cost-series";
    const chunks: TestChunk[] = Array.from({ length: 150 }, (_, i) => ({
      relay: "r1",
      session: "s1",
      ch: "a",
      samples: [
        { seq: i + 1, idx: 0, t: i * 1_000, v: i },
        { seq: i + 1, idx: 1, t: i * 1_000 + 600, v: -i },
      ],
    }));
    await putWarmChunks(user, chunks);
    const q = { userId: user, to: 150_000, step: 500, channels: ["a"] };
    const buckets: unknown[] = [];
    let from: number | null = 0;
    let pages = 0;
    while (from !== null) {
      const page = await readSeries(env.DB, { ...q, from }, env.COLD);
      expect(page.chunksDecoded).toBeLessThanOrEqual(SERIES_CHUNK_BUDGET + 1);
      expect(page.nextFrom === null || (page.nextFrom > from && page.nextFrom % 500 === 0)).toBe(true);
      buckets.push(...(page.series[0]?.buckets ?? []));
      from = page.nextFrom;
      pages++;
    }
    expect(pages).toBeGreaterThanOrEqual(3);
    // Each sample is alone in its bucket.
    const naive = chunks.flatMap((c) =>
      c.samples.map(({ t, v }) => ({
        t: t - (t % 500),
        count: 1,
        min: v,
        max: v,
        mean: v,
        first: v,
        last: v,
      })),
    );
    expect(buckets).toEqual(naive);
    // Over HTTP: has_more with next_from.
    const res = await exports.default.fetch(
      `${BASE}/v1/users/${user}/series?ch=a&from=0&to=150000&step=500`,
      { headers: { Authorization: `Bearer ${await tokenFor(user, "consumer")}` } },
    );
    expect(await res.json()).toMatchObject({ has_more: true, next_from: expect.any(Number) });
  });
});
