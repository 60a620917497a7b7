import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintToken } from "../../tools/lib/token.ts";
import { startWranglerDev, type WranglerDev } from "../../tools/lib/wrangler-dev.ts";
import type { ReplayReport } from "../../tools/sim/replay-report.ts";
import { runNpmScript } from "./support/npm-script";

// The export round trip under `wrangler dev`: a recording replayed with `npm run sim -- --replay`, exported as
// CSV and as Parquet, both read by DuckDB (an independent reader): every (t, ch, v) of the file, bit for bit.
const PORT = 18330;
const SECRET = "e2e-export-secret-0123456789abcdef";
const T0 = 1_763_700_000_000;
const CHANNELS = ["acc_x", "acc_y", "acc_z", "steps"];

/** 12.5 Hz wrist accelerometer counts and a sparse step counter, dropped cells and two rows out of order. */
function recording(rows = 3_000): { text: string; samples: [number, string, number][] } {
  const lines: (number | "")[][] = [];
  let steps = 0;
  for (let i = 0; i < rows; i++) {
    const s = i / 12.5;
    if (i % 25 === 0) steps += 1 + (i % 3);
    lines.push([
      T0 + i * 80,
      i % 97 === 13 ? "" : Math.round(300 * Math.sin(2 * Math.PI * 1.7 * s) + 12 * Math.sin(i * 12.9898)),
      Number((-0.98 + 0.1 * Math.cos(2 * Math.PI * 0.9 * s)).toFixed(3)),
      Number((9.81 + 0.4 * Math.sin(2 * Math.PI * 1.7 * s + 1)).toFixed(4)),
      i % 25 === 0 ? steps : "",
    ]);
  }
  [lines[100], lines[101]] = [lines[101] as (number | "")[], lines[100] as (number | "")[]];
  // The values the file says, as the replay parser reads its text (a rounded -0 prints as "0").
  const samples = lines.flatMap(([t, ...cells]) =>
    cells.flatMap((v, c) =>
      v === "" ? [] : [[t as number, CHANNELS[c] as string, Number(String(v))] as [number, string, number]],
    ),
  );
  return { text: `time_ms,${CHANNELS.join(",")}\n${lines.map((l) => l.join(",")).join("\n")}\n`, samples };
}

const order = (a: [number, string, number], b: [number, string, number]) =>
  a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0) || a[2] - b[2];

describe("export round trip against wrangler dev", () => {
  let server: WranglerDev;
  let dir: string;
  const file = recording();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "zander-export-e2e-"));
    writeFileSync(join(dir, "recording.csv"), file.text);
    server = await startWranglerDev({ port: PORT, vars: { AUTH_SECRET: SECRET, FLUSH_INTERVAL_MS: "100" } });
  });
  afterAll(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("exports a replayed recording as CSV and Parquet that DuckDB reads back bit for bit", async () => {
    const run = await runNpmScript(
      "sim",
      ["--url", server.url, "--replay", join(dir, "recording.csv"), "--speed", "max", "--json"],
      { ...process.env, AUTH_SECRET: SECRET },
    );
    expect(run.code, run.stderr).toBe(0);
    const { userId } = JSON.parse(run.stdout) as ReplayReport;
    const token = await mintToken({ secret: SECRET, userId, role: "consumer" });
    const download = async (format: string) => {
      const res = await fetch(`${server.url}/v1/users/${userId}/export?format=${format}`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(200);
      const path = join(dir, `export.${format}`);
      writeFileSync(path, new Uint8Array(await res.arrayBuffer()));
      return path;
    };
    const csv = await download("csv");
    const parquet = await download("parquet");

    const db = await (await DuckDBInstance.create(":memory:")).connect();
    const rows = async (sql: string) =>
      (await db.runAndReadAll(sql))
        .getRows()
        .map(([t, ch, v]) => [Number(t), String(ch), v as number] as [number, string, number])
        .sort(order);
    const types = `{'t': 'BIGINT', ${CHANNELS.map((c) => `'${c}': 'DOUBLE'`).join(", ")}}`;
    const fromCsv = await rows(
      `UNPIVOT (SELECT * FROM read_csv('${csv}', header = true, columns = ${types})) ON COLUMNS(* EXCLUDE t) INTO NAME ch VALUE v`,
    );
    const fromParquet = await rows(`SELECT epoch_ms(t), ch, v FROM read_parquet('${parquet}')`);
    const expected = [...file.samples].sort(order);
    expect(fromCsv.length).toBe(expected.length);
    // toEqual compares numbers with Object.is: bit for bit, -0 included.
    expect(fromCsv).toEqual(expected);
    expect(fromParquet).toEqual(expected);
    console.log(`export round trip: ${expected.length} samples, CSV and Parquet read back by DuckDB`);
  });
});
