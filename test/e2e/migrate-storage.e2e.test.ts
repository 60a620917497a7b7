import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintToken } from "../../tools/lib/token.ts";
import { startWranglerDev, type WranglerDev } from "../../tools/lib/wrangler-dev.ts";
import { E2E_AUTH_SECRET } from "./support/metrics-traffic";
import { runNpmScript } from "./support/npm-script";

const PORT = 18851;
const USERS = ["mig-a", "mig-b"];

// 0.1's flush statement, as the previous release wrote its samples table (one row per sample).
const INSERT_0_1 = `INSERT OR IGNORE INTO samples (user_id, relay_id, session_id, seq, idx, t, ch, v)
SELECT json_extract(f.value, '$.u'), json_extract(f.value, '$.r'), json_extract(f.value, '$.s'), json_extract(f.value, '$.q'),
       e.key, json_extract(e.value, '$.t'), json_extract(e.value, '$.ch'), json_extract(e.value, '$.v')
FROM json_each(?) AS f, json_each(json_extract(f.value, '$.x')) AS e`;

/** Frames of the three data shapes: integer counts, 3-decimal readings, noisy doubles; ties on t across relays. */
function legacyFrames(): object[] {
  const frames: object[] = [];
  let seed = 7;
  const random = () => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647;
  };
  for (const u of USERS) {
    for (const r of ["r1", "r2"]) {
      for (let q = 1; q <= 30; q++) {
        const x = [];
        for (let i = 0; i < 40; i++) {
          const t = 1_700_000_000_000 + q * 1000 + i * 20;
          x.push({ t, ch: "steps", v: q * 40 + i });
          x.push({ t, ch: "acc_x", v: Math.round(Math.sin(q + i / 7) * 1000) / 1000 });
          x.push({ t, ch: "noise", v: random() * 1e3 - 500 });
        }
        frames.push({ u, r, s: q <= 15 ? "s1" : "s2", q, x });
      }
    }
  }
  return frames;
}

describe("npm run migrate:storage on a database filled by 0.1", () => {
  let dev: WranglerDev;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "zander-migrate-"));
    dev = await startWranglerDev({
      port: PORT,
      persistTo: join(dir, "state"),
      vars: { AUTH_SECRET: E2E_AUTH_SECRET },
    });
    const fill = join(dir, "fill.sql");
    // A few frames a statement, as 0.1's flush packed them (SQLite caps one statement's length).
    const frames = legacyFrames();
    const statements: string[] = [];
    for (let i = 0; i < frames.length; i += 4) {
      const json = JSON.stringify(frames.slice(i, i + 4)).replaceAll("'", "''");
      statements.push(`${INSERT_0_1.replace("?", `'${json}'`)};`);
    }
    writeFileSync(fill, statements.join("\n"));
    await promisify(execFile)(
      "npx",
      [
        "wrangler",
        "d1",
        "execute",
        "DB",
        "--local",
        "--persist-to",
        join(dir, "state"),
        "--file",
        fill,
        "--yes",
      ],
      { env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" } },
    );
  });
  afterAll(async () => {
    await dev?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Every sample of a user through the read API, page by page. */
  async function readAll(user: string): Promise<unknown[]> {
    const token = await mintToken({ secret: E2E_AUTH_SECRET, userId: user, role: "consumer" });
    const all: unknown[] = [];
    let cursor: string | null = null;
    do {
      const url = `${dev.url}/v1/users/${user}/samples?limit=1000${cursor ? `&cursor=${cursor}` : ""}`;
      const body = (await (await fetch(url, { headers: { Authorization: `Bearer ${token}` } })).json()) as {
        samples: unknown[];
        next_cursor: string | null;
        errors: unknown[];
      };
      expect(body.errors).toEqual([]);
      all.push(...body.samples);
      cursor = body.next_cursor;
    } while (cursor);
    return all;
  }

  it("converts in resumable batches, verifies the counts, and the read API answers the same before and after", async () => {
    const before = await Promise.all(USERS.map(readAll));
    expect(before.map((samples) => samples.length)).toEqual([7_200, 7_200]);
    const migrate = (...extra: string[]) =>
      runNpmScript("migrate:storage", [
        "--local",
        "--persist-to",
        join(dir, "state"),
        "--batch",
        "5000",
        ...extra,
      ]);

    const partial = await migrate("--max-batches", "1");
    expect(partial.code, partial.stderr).toBe(0);
    expect(partial.stdout).toContain("legacy rows to convert: 14400");
    expect(partial.stdout).toContain("converted 5000 of 14400 rows");
    expect(partial.stdout).toContain("9400 legacy rows remain");
    // Half converted: the API serves both layouts together, in the same order.
    expect(await Promise.all(USERS.map(readAll))).toEqual(before);

    const rest = await migrate();
    expect(rest.code, rest.stderr).toBe(0);
    expect(rest.stdout).toContain("legacy rows to convert: 9400");
    expect(rest.stdout).toContain("done: every sample is in chunks (14400)");
    expect(await Promise.all(USERS.map(readAll))).toEqual(before);

    const again = await migrate();
    expect(again.stdout).toContain("legacy rows to convert: 0");
  });
});
