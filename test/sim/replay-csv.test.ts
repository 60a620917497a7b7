import { describe, expect, it } from "vitest";
import { openReplayCsv, type ReplayCsv, ReplayCsvError, type ReplayRow } from "../../tools/sim/replay-csv.ts";

/** The file as bytes, cut into small chunks so that rows straddle chunk boundaries as they do in a real file. */
function bytesOf(text: string, chunk = 7): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + chunk));
      at += chunk;
    },
  });
}

async function readAll(text: string): Promise<{ csv: ReplayCsv; rows: ReplayRow[] }> {
  const csv = await openReplayCsv(bytesOf(text));
  const rows: ReplayRow[] = [];
  for await (const row of csv.rows) rows.push(row);
  return { csv, rows };
}

/** The error reading `text` fails with (the header's at open, a row's while iterating). */
async function errorOf(text: string): Promise<ReplayCsvError> {
  try {
    await readAll(text);
  } catch (err) {
    if (err instanceof ReplayCsvError) return err;
    throw err;
  }
  throw new Error(`no error for ${JSON.stringify(text)}`);
}

describe("openReplayCsv", () => {
  it("reads the header's channels and every row, empty cells as no sample", async () => {
    const { csv, rows } = await readAll(
      "time_ms,acc_x,acc.y,steps-1\n1763700000000,0.012,-0.981,120\n1763700000020,,9.806,\n",
    );
    expect(csv.timeColumn).toBe("time_ms");
    expect(csv.channels).toEqual(["acc_x", "acc.y", "steps-1"]);
    expect(rows).toEqual([
      { line: 2, t: 1763700000000, values: [0.012, -0.981, 120] },
      { line: 3, t: 1763700000020, values: [undefined, 9.806, undefined] },
    ]);
  });

  it("takes a BOM, CRLF, blank lines, quoted cells, spaces around cells and no final newline", async () => {
    const { csv, rows } = await readAll('\uFEFFt,"a",b\r\n\r\n 5 , "1.5" ,2\r\n\r\n7,,"-3e2"');
    expect(csv.channels).toEqual(["a", "b"]);
    expect(rows).toEqual([
      { line: 3, t: 5, values: [1.5, 2] },
      { line: 5, t: 7, values: [undefined, -300] },
    ]);
  });

  it("keeps rows whose time goes back or repeats, in file order", async () => {
    const { rows } = await readAll("t,a\n20,1\n10,2\n10,2\n0,3\n");
    expect(rows.map((r) => r.t)).toEqual([20, 10, 10, 0]);
  });

  it("reads every value to the same float64 as JavaScript's Number does, -0 and the extremes included", async () => {
    const cells = [
      "-0.000",
      "5e-324",
      "1.7976931348623157e308",
      "0.30000000000000004",
      "9007199254740993",
      "+.5",
    ];
    const { rows } = await readAll(`t,${cells.map((_, i) => `c${i}`).join(",")}\n1,${cells.join(",")}\n`);
    const values = rows[0]?.values ?? [];
    expect(values).toHaveLength(cells.length);
    for (const [i, cell] of cells.entries()) expect(Object.is(values[i], Number(cell)), cell).toBe(true);
  });

  it("names the line and column of a value that is not a number", async () => {
    for (const bad of ["abc", "NaN", "Infinity", "0x10", "1_000", "1e999", "1,5x", "--1", "1.2.3"]) {
      const err = await errorOf(`t,a,b\n1,2,3\n2,4,"${bad}"\n`);
      expect(err.message, bad).toBe(
        `line 3, column 3 (b): ${JSON.stringify(bad)} is not a finite decimal number`,
      );
      expect([err.line, err.column]).toEqual([3, 3]);
    }
  });

  it("refuses a time that is not whole epoch milliseconds, naming the line", async () => {
    for (const bad of ["1.5", "-1", "", "1e3", "8640000000000001", "99999999999999999", "now"]) {
      const err = await errorOf(`ts,a\n0,1\n${bad},2\n`);
      expect(err.message, bad).toBe(
        `line 3, column 1 (ts): ${JSON.stringify(bad)}: the time must be whole epoch milliseconds from 0 to 8640000000000000`,
      );
    }
  });

  it("refuses a row with too few or too many columns", async () => {
    expect((await errorOf("t,a,b\n1,2,3\n2,4\n")).message).toBe(
      "line 3: expected 3 columns (t and 2 channels), found 2",
    );
    expect((await errorOf("t,a,b\n1,2,3,\n")).message).toBe(
      "line 2: expected 3 columns (t and 2 channels), found 4",
    );
  });

  it("refuses a bad header: a bad or repeated channel name, no channel, an empty file", async () => {
    expect((await errorOf("t,acc x,b\n1,2,3\n")).message).toBe(
      "line 1, column 2 (acc x): a channel name must be 1-64 characters of [A-Za-z0-9_.-]",
    );
    expect((await errorOf(`t,${"c".repeat(65)}\n`)).message).toMatch(
      /^line 1, column 2 \(c{65}\): a channel name/,
    );
    expect((await errorOf("t,a,\n")).message).toMatch(/^line 1, column 3 \(\): a channel name/);
    expect((await errorOf("t,a,b,a\n")).message).toBe("line 1, column 4 (a): the same channel is column 2");
    expect((await errorOf("t;a;b\n1;2;3\n")).message).toBe(
      'line 1: the header must name the time column and at least one channel, comma-separated; got "t;a;b"',
    );
    expect((await errorOf("")).message).toBe(
      "line 1: the file is empty: expected a header row (time, channels...)",
    );
    expect((await errorOf("\n\n")).message).toMatch(/^line 1: the file is empty/);
  });

  it("reports CSV syntax errors with their line", async () => {
    const err = await errorOf('t,a\n1,2\n2,"3\n');
    expect(err.line).toBe(3);
    expect(err.message).toMatch(/^line 3: Quote Not Closed/);
  });
});
