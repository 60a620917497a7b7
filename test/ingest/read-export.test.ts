import { exports } from "cloudflare:workers";
import { parquetMetadata, parquetReadObjects } from "hyparquet";
import { describe, expect, it } from "vitest";
import { moveToCold, putWarmChunks } from "../support/tiers";
import { BASE, tokenFor } from "../support/ws-client";

async function get(user: string, path: string) {
  return exports.default.fetch(`${BASE}/v1/users/${user}/${path}`, {
    headers: { Authorization: `Bearer ${await tokenFor(user, "consumer")}` },
  });
}

/** Two relays, one sharing t with the other (a repeated channel at one t starts a second row), -0 and tiny values. */
async function store(user: string) {
  await putWarmChunks(user, [
    {
      relay: "ra",
      session: "s1",
      ch: "acc_x",
      samples: [
        { seq: 1, idx: 0, t: 1_000, v: 0.1 },
        { seq: 1, idx: 2, t: 1_020, v: -0 },
        { seq: 2, idx: 0, t: 1_040, v: 1e-7 },
      ],
    },
    { relay: "ra", session: "s1", ch: "acc_y", samples: [{ seq: 1, idx: 1, t: 1_000, v: -0.981 }] },
    { relay: "rb", session: "s2", ch: "acc_x", samples: [{ seq: 1, idx: 0, t: 1_020, v: 12345678.9 }] },
  ]);
}

const CSV = "t,acc_x,acc_y\n1000,0.1,-0.981\n1020,-0,\n1020,12345678.9,\n1040,1e-7,\n";

describe("channels and export", () => {
  it("lists channels with count and first/last t from either tier, decoding only chunks over the edges", async () => {
    const user = "export-channels";
    await store(user);
    const list = async (q: string) =>
      (await (await get(user, `channels${q}`)).json()) as Record<string, unknown>;
    const whole = [
      { ch: "acc_x", count: 4, first_t: 1_000, last_t: 1_040 },
      { ch: "acc_y", count: 1, first_t: 1_000, last_t: 1_000 },
    ];
    expect((await list("?from=0&to=5000")).channels).toEqual(whole);
    expect((await list("?from=1010&to=1040")).channels).toEqual([
      { ch: "acc_x", count: 2, first_t: 1_020, last_t: 1_020 },
    ]);
    await moveToCold(user);
    expect((await list("?from=0&to=5000")).channels).toEqual(whole);
    expect((await list("?from=1010&to=1040")).channels).toEqual([
      { ch: "acc_x", count: 2, first_t: 1_020, last_t: 1_020 },
    ]);
    for (const path of ["channels", "export?format=csv"]) {
      const asRelay = await exports.default.fetch(`${BASE}/v1/users/${user}/${path}`, {
        headers: { Authorization: `Bearer ${await tokenFor(user, "relay")}` },
      });
      expect(asRelay.status).toBe(403);
      expect((await exports.default.fetch(`${BASE}/v1/users/${user}/${path}`)).status).toBe(401);
    }
    expect((await get(user, "channels?from=5&to=5")).status).toBe(400);
    const bad = await get(user, "channels?from=x");
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      type: "error",
      code: "invalid",
      message: expect.stringMatching(/^from /),
    });
  });

  it("exports CSV in the replay format and Parquet with every field, the same from warm and cold", async () => {
    const user = "export-files";
    await store(user);
    const csv = await get(user, "export?format=csv");
    expect(csv.headers.get("content-type")).toMatch(/^text\/csv/);
    expect(await csv.text()).toBe(CSV);
    expect(await (await get(user, "export?format=csv&session_id=s2")).text()).toBe(
      "t,acc_x,acc_y\n1020,12345678.9,\n",
    );
    const parquet = async () => {
      const buffer = await (await get(user, "export?format=parquet&from=0&to=2000")).arrayBuffer();
      expect(parquetMetadata(buffer).num_rows).toBe(5n);
      return parquetReadObjects({ file: buffer });
    };
    const rows = await parquet();
    expect(
      rows.map((r) => [Number(r.t instanceof Date ? r.t.getTime() : r.t), r.ch, r.v, r.relay_id]),
    ).toEqual([
      [1_000, "acc_x", 0.1, "ra"],
      [1_000, "acc_y", -0.981, "ra"],
      [1_020, "acc_x", -0, "ra"],
      [1_020, "acc_x", 12345678.9, "rb"],
      [1_040, "acc_x", 1e-7, "ra"],
    ]);
    expect(Object.is(rows[2]?.v, -0)).toBe(true);
    await moveToCold(user);
    expect(await (await get(user, "export?format=csv")).text()).toBe(CSV);
    expect(await parquet()).toEqual(rows);
    const bad = await get(user, "export?format=xml");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/^format/);
  });
});
