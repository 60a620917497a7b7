import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { readSamples } from "../support/user-object";

const user = "reader";

async function seed(): Promise<void> {
  // Five samples at t = 100..500 of two relays, and one of another user.
  const rows = [
    [user, "r2", "s1", 1, 0, 300],
    [user, "r1", "s1", 1, 0, 100],
    [user, "r1", "s1", 1, 1, 200],
    [user, "r1", "s1", 2, 0, 300],
    [user, "r1", "s1", 2, 1, 500],
    ["someone-else", "r1", "s1", 1, 0, 100],
  ];
  await env.DB.batch(
    rows.map(([u, r, s, seq, idx, t]) =>
      env.DB.prepare(
        "INSERT OR IGNORE INTO samples (user_id, relay_id, session_id, seq, idx, t, ch, v) VALUES (?, ?, ?, ?, ?, ?, 'hr', ?)",
      ).bind(u, r, s, seq, idx, t, Number(t) / 100),
    ),
  );
}

const key = (s: Record<string, unknown>) => `${s.relay_id}/${s.seq}/${s.idx}@${s.t}`;

describe("GET /v1/users/:user_id/samples", () => {
  it("returns the user's samples oldest first, from inclusive, to exclusive, limited", async () => {
    await seed();
    const all = await readSamples(user);
    expect(all.status).toBe(200);
    expect(all.body.samples.map(key)).toEqual([
      "r1/1/0@100",
      "r1/1/1@200",
      "r1/2/0@300",
      "r2/1/0@300",
      "r1/2/1@500",
    ]);
    expect(all.body.samples[0]).toEqual({
      relay_id: "r1",
      session_id: "s1",
      seq: 1,
      idx: 0,
      t: 100,
      ch: "hr",
      v: 1,
    });
    expect(all.body).toMatchObject({ user_id: user, count: 5, has_more: false, limit: 1000 });

    const window = await readSamples(user, "?from=200&to=500");
    expect(window.body.samples.map(key)).toEqual(["r1/1/1@200", "r1/2/0@300", "r2/1/0@300"]);

    const limited = await readSamples(user, "?from=0&limit=2");
    expect(limited.body.samples.map(key)).toEqual(["r1/1/0@100", "r1/1/1@200"]);
    expect(limited.body).toMatchObject({ count: 2, has_more: true, limit: 2 });
  });

  it("answers 400 naming the bad parameter", async () => {
    const cases: [string, string][] = [
      ["?from=yesterday", "from must be epoch milliseconds"],
      ["?to=-1", "to must be epoch milliseconds"],
      ["?limit=0", "limit must be an integer from 1 to 10000"],
      ["?limit=10001", "limit must be an integer from 1 to 10000"],
      ["?limit=ten", "limit must be an integer from 1 to 10000"],
      ["?from=500&to=500", "from must be before to"],
    ];
    for (const [query, message] of cases) {
      const res = await readSamples(user, query);
      expect(res.status, query).toBe(400);
      expect(res.body, query).toMatchObject({ type: "error", code: "invalid" });
      expect(res.body.message, query).toContain(message);
    }
  });
});
