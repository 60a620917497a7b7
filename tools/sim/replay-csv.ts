import { CsvError, parse } from "csv-parse/stream";
import { ID_PATTERN, ID_RULE, MAX_EPOCH_MS } from "../../src/protocol/ids.ts";

/**
 * A recording to replay, as CSV: a header row naming the time column and then one column per channel, then one
 * row per instant: the time in epoch milliseconds and, per channel, a number or nothing (no sample).
 *
 *   t,acc_x,acc_y,acc_z,steps
 *   1763700000000,0.012,-0.981,9.806,120
 *   1763700000020,0.015,,9.801,
 */
export interface ReplayCsv {
  /** The header's name for the time column (anything: t, time_ms, ...). */
  timeColumn: string;
  channels: string[];
  /** The data rows in file order; iterating throws a ReplayCsvError at the first bad one. */
  rows: AsyncIterable<ReplayRow>;
}

export interface ReplayRow {
  /** 1-based line of the file where the row ends (a quoted cell may span lines). */
  line: number;
  t: number;
  /** By channel index: the value, or undefined for an empty cell. */
  values: Array<number | undefined>;
}

/** A bad recording: the message names the line, and the column when one is to blame. */
export class ReplayCsvError extends Error {
  override name = "ReplayCsvError";
  readonly line: number;
  readonly column: number | null;

  /** `column` is 1-based; `name` is that column's header. */
  constructor(line: number, column: { index: number; name: string } | null, message: string) {
    super(`line ${line}${column ? `, column ${column.index} (${column.name})` : ""}: ${message}`);
    this.line = line;
    this.column = column?.index ?? null;
  }
}

/** Decimal numbers as sensors print them (12, -0.981, 6.02e23); not hex, Infinity, NaN or "1_000". */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const WHOLE = /^\d{1,16}$/;
const TIME_RULE = `must be whole epoch milliseconds from 0 to ${MAX_EPOCH_MS}`;

interface CsvRecord {
  record: string[];
  info: { lines: number };
}

/**
 * Reads a recording from a byte stream, checking the header at once and each row as it is read. Uses
 * csv-parse (quotes, CRLF, a BOM) rather than splitting lines by hand; cells are trimmed, blank lines skipped.
 */
export async function openReplayCsv(bytes: ReadableStream<Uint8Array>): Promise<ReplayCsv> {
  const records = bytes.pipeThrough(
    parse({ bom: true, info: true, relax_column_count: true, skip_empty_lines: true, trim: true }),
  );
  const iterator = records[Symbol.asyncIterator]() as AsyncIterator<CsvRecord>;
  const first = await nextRecord(iterator);
  if (!first)
    throw new ReplayCsvError(1, null, "the file is empty: expected a header row (time, channels...)");
  const { timeColumn, channels } = readHeader(first);
  return { timeColumn, channels, rows: readRows(iterator, timeColumn, channels) };
}

function readHeader({ record, info }: CsvRecord): { timeColumn: string; channels: string[] } {
  if (record.length < 2) {
    throw new ReplayCsvError(
      info.lines,
      null,
      `the header must name the time column and at least one channel, comma-separated; got ${JSON.stringify(record.join(","))}`,
    );
  }
  const [timeColumn, ...channels] = record as [string, ...string[]];
  const seen = new Map<string, number>();
  channels.forEach((name, i) => {
    const column = i + 2;
    if (!ID_PATTERN.test(name)) {
      throw new ReplayCsvError(info.lines, { index: column, name }, `a channel name ${ID_RULE}`);
    }
    const before = seen.get(name);
    if (before !== undefined) {
      throw new ReplayCsvError(info.lines, { index: column, name }, `the same channel is column ${before}`);
    }
    seen.set(name, column);
  });
  return { timeColumn, channels };
}

async function* readRows(
  iterator: AsyncIterator<CsvRecord>,
  timeColumn: string,
  channels: string[],
): AsyncGenerator<ReplayRow> {
  for (let next = await nextRecord(iterator); next; next = await nextRecord(iterator)) {
    const { record, info } = next;
    const line = info.lines;
    if (record.length !== channels.length + 1) {
      throw new ReplayCsvError(
        line,
        null,
        `expected ${channels.length + 1} columns (${timeColumn} and ${channels.length} channels), found ${record.length}`,
      );
    }
    const [time, ...cells] = record as [string, ...string[]];
    const t = Number(time);
    if (!WHOLE.test(time) || t > MAX_EPOCH_MS) {
      throw new ReplayCsvError(
        line,
        { index: 1, name: timeColumn },
        `${JSON.stringify(time)}: the time ${TIME_RULE}`,
      );
    }
    const values = cells.map((cell, i) => {
      if (cell === "") return undefined;
      const v = Number(cell);
      if (!DECIMAL.test(cell) || !Number.isFinite(v)) {
        const column = { index: i + 2, name: channels[i] as string };
        throw new ReplayCsvError(line, column, `${JSON.stringify(cell)} is not a finite decimal number`);
      }
      return v;
    });
    yield { line, t, values };
  }
}

/** The next record, with csv-parse's own errors (an unclosed quote, ...) turned into ReplayCsvErrors. */
async function nextRecord(iterator: AsyncIterator<CsvRecord>): Promise<CsvRecord | null> {
  try {
    const next = await iterator.next();
    return next.done ? null : next.value;
  } catch (err) {
    if (!(err instanceof CsvError)) throw err;
    const where = err as CsvError & { lines?: unknown };
    throw new ReplayCsvError(typeof where.lines === "number" ? where.lines : 0, null, err.message);
  }
}
