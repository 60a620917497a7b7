import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { jsonText } from "../../src/protocol/json-text";
import { scrape, seriesValue } from "../metrics/support";
import { flushAll, readAllSamples, readSamples } from "../support/user-object";
import { BASE, connect, type Frame, tokenFor } from "../support/ws-client";

/** Streams frames through a relay socket and flushes them into chunks. */
async function store(user: string, frames: Frame[]): Promise<void> {
  const relay = await connect("relay", user);
  for (const frame of frames) expect(await relay.request(frame)).toEqual({ type: "ack", seq: frame.seq });
  relay.close();
  await flushAll(user);
}

const frame = (relay: string, seq: number, samples: [number, string, number][]): Frame => ({
  type: "samples",
  relay_id: relay,
  session_id: "s1",
  seq,
  samples: samples.map(([t, ch, v]) => ({ t, ch, v })),
});

async function getSeries(user: string, query: string) {
  const res = await exports.default.fetch(`${BASE}/v1/users/${user}/series${query}`, {
    headers: { Authorization: `Bearer ${await tokenFor(user, "consumer")}` },
  });
  return { status: res.status, body: (await res.json()) as Frame };
}

const key = (s: Record<string, unknown>) => `${s.relay_id}/${s.seq}/${s.idx}`;

describe("read API over chunks", () => {
  it("pages exactly with next_cursor, ties on t included, and filters channels", async () => {
    const user = "read-cursor";
    // Three relays, every sample at one of three times: many ties on t.
    const frames = ["r3", "r1", "r2"].flatMap((relay, i) =>
      [1, 2].map((seq) =>
        frame(relay, seq, [
          [1_000, "a", i],
          [1_000, "b", i + 0.5],
          [2_000, "a", seq],
          [3_000, "b", -seq],
        ]),
      ),
    );
    await store(user, frames);
    const whole = (await readSamples(user, "?limit=100")).body.samples;
    expect(whole).toHaveLength(24);
    const sorted = [...whole].sort(
      (x, y) =>
        Number(x.t) - Number(y.t) ||
        String(x.relay_id).localeCompare(String(y.relay_id)) ||
        Number(x.seq) - Number(y.seq) ||
        Number(x.idx) - Number(y.idx),
    );
    expect(whole).toEqual(sorted);

    const paged: Record<string, unknown>[] = [];
    let cursor: string | null = null;
    do {
      const page = await readSamples(user, `?limit=5${cursor ? `&cursor=${cursor}` : ""}`);
      expect(page.body.count).toBeLessThanOrEqual(5);
      paged.push(...page.body.samples);
      cursor = page.body.next_cursor as string | null;
      expect(cursor === null).toBe(!page.body.has_more);
    } while (cursor);
    expect(paged.map(key)).toEqual(whole.map(key));

    const onlyB = (await readSamples(user, "?ch=b")).body.samples;
    expect(onlyB.map((s) => s.ch)).toEqual(Array(12).fill("b"));
    expect((await readSamples(user, "?ch=b&ch=a")).body.count).toBe(24);
    expect((await readAllSamples(user, "&ch=a&from=2000")).map((s) => s.t)).toEqual(Array(6).fill(2_000));
  });

  it("serves 0.1's per-sample rows and the chunks together, in one order", async () => {
    const user = "read-legacy";
    await env.DB.prepare(
      "INSERT INTO samples (user_id, relay_id, session_id, seq, idx, t, ch, v) VALUES (?, 'old', 's0', 1, 0, 1500, 'a', 7), (?, 'old', 's0', 1, 1, 500, 'a', 8)",
    )
      .bind(user, user)
      .run();
    await store(user, [
      frame("new", 1, [
        [1_000, "a", 1],
        [2_000, "a", 2],
      ]),
    ]);
    const read = await readSamples(user);
    expect(read.body.samples.map((s) => `${s.relay_id}@${s.t}`)).toEqual([
      "old@500",
      "new@1000",
      "old@1500",
      "new@2000",
    ]);
    const series = await getSeries(user, "?ch=a&from=0&to=4000&step=1000");
    expect(
      series.body.series[0].buckets.map((b: Record<string, number>) => [b.t, b.count, b.first, b.last]),
    ).toEqual([
      [0, 1, 8, 8],
      [1000, 2, 1, 7],
      [2000, 1, 2, 2],
    ]);
  });

  it("downsamples into buckets with count/min/max/mean/first/last, from chunk statistics or samples alike", async () => {
    const user = "read-series";
    // 50 Hz for 20 s on two channels: chunks of one flush lie inside a 60 s bucket (statistics) and across
    // 1 s buckets (decoded); both must agree with a naive computation.
    const samples: [number, string, number][] = [];
    for (let i = 0; i < 1_000; i++) {
      samples.push([60_000 + i * 20, "x", Math.round(Math.sin(i / 10) * 1000) / 1000]);
      samples.push([60_000 + i * 20, "y", i]);
    }
    await store(user, [frame("r1", 1, samples.slice(0, 1_000)), frame("r1", 2, samples.slice(1_000))]);
    for (const step of [1_000, 60_000]) {
      const res = await getSeries(user, `?ch=x&ch=y&from=60000&to=120000&step=${step}`);
      expect(res.status).toBe(200);
      for (const ch of ["x", "y"]) {
        const buckets = res.body.series.find((s: { ch: string }) => s.ch === ch).buckets;
        const naive = new Map<number, number[]>();
        for (const [t, c, v] of samples) {
          if (c !== ch) continue;
          const b = 60_000 + Math.floor((t - 60_000) / step) * step;
          naive.set(b, [...(naive.get(b) ?? []), v]);
        }
        expect(buckets).toEqual(
          [...naive].map(([t, vs]) => ({
            t,
            count: vs.length,
            min: Math.min(...vs),
            max: Math.max(...vs),
            mean: expect.closeTo(vs.reduce((a, b) => a + b, 0) / vs.length, 9),
            first: vs[0],
            last: vs.at(-1),
          })),
        );
      }
    }
  });

  it("keeps every v bit for bit, -0 included, from the relay to the consumer and back from D1", async () => {
    const user = "read-exact";
    const values = [-0, 0, 5e-324, -1.7976931348623157e308, 0.30000000000000004, 2 ** 53 + 2];
    const consumer = await connect("consumer", user);
    const relay = await connect("relay", user);
    // As a relay's JSON encoder writes them: "-0" stays "-0" on the wire (JSON.stringify would write 0).
    const text = jsonText(
      frame(
        "r1",
        1,
        values.map((v, i) => [1_000 + i, "x", v]),
      ),
    );
    expect(text).toContain('"v":-0}');
    expect(await relay.request(text)).toEqual({ type: "ack", seq: 1 });
    await flushAll(user);
    const fanned = await consumer.next();
    const read = await readSamples(user);
    for (const got of [fanned.samples, read.body.samples]) {
      expect(got.map((s: { v: number }) => s.v)).toEqual(values);
      expect(Object.is(got[0].v, -0)).toBe(true);
    }
  });

  it("answers 400 naming the parameter", async () => {
    const user = "read-bad";
    const cases: [string, string, string][] = [
      ["samples", "?cursor=nonsense", "cursor: not a next_cursor"],
      ["samples", "?ch=a%20b", "ch must be 1-64"],
      ["series", "?from=0&to=1000&step=10", "ch is required"],
      ["series", "?ch=a&to=1000&step=10", "from is required"],
      ["series", "?ch=a&from=0&to=1000", "step is required"],
      ["series", "?ch=a&from=0&to=1000&step=0", "step must be a positive integer"],
      ["series", "?ch=a&from=0&to=1000000&step=10", "at most 11000 buckets"],
    ];
    for (const [route, query, message] of cases) {
      const res = route === "samples" ? await readSamples(user, query) : await getSeries(user, query);
      expect(res.status, query).toBe(400);
      expect(res.body, query).toMatchObject({ type: "error", code: "invalid" });
      expect(res.body.message, query).toContain(message);
    }
  });

  it("reports a chunk that cannot be decoded, counts it, and still answers the rest", async () => {
    const user = "read-corrupt";
    await store(user, [
      frame("r1", 1, [[1_000, "a", 1]]),
      frame("r2", 1, [
        [1_000, "a", 2],
        [61_000, "a", 3],
      ]),
    ]);
    await env.DB.prepare(
      "UPDATE sample_chunks SET data = X'0102030405' WHERE user_id = ? AND relay_id = 'r2'",
    )
      .bind(user)
      .run();
    const before = seriesValue(await scrape(), "chunk_decode_errors_total") ?? 0;
    const read = await readSamples(user);
    expect(read.status).toBe(200);
    expect(read.body.samples.map(key)).toEqual(["r1/1/0"]);
    expect(read.body.errors).toEqual([
      expect.objectContaining({ code: "corrupt_chunk", relay_id: "r2", ch: "a", first_seq: 1, count: 2 }),
    ]);
    const series = await getSeries(user, "?ch=a&from=0&to=120000&step=60000");
    expect(series.body.errors).toHaveLength(1);
    expect(seriesValue(await scrape(), "chunk_decode_errors_total")).toBe(before + 2);
  });
});
