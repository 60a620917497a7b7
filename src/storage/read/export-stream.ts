import { ByteWriter, ParquetWriter } from "hyparquet-writer";
import { type RangeQuery, type ReadPosition, readSamples, type StoredSample } from "../d1/reader";

/** Samples read per page of an export: the stream holds one page (and one Parquet row group) at a time. */
export const EXPORT_PAGE_SAMPLES = 10_000;

export interface ExportQuery extends RangeQuery {
  /** null: every session. */
  sessionId: string | null;
}

/** A chunk could not be decoded while exporting: the stream fails rather than leave samples out silently. */
export class ExportCorrupt extends Error {
  override name = "ExportCorrupt";
}

/** The query's samples in read order, page by page through the same reader as GET samples. */
async function* pages(db: D1Database, cold: R2Bucket | null, q: ExportQuery): AsyncGenerator<StoredSample[]> {
  let position: ReadPosition | null = null;
  do {
    const page = await readSamples(db, { ...q, limit: EXPORT_PAGE_SAMPLES, position }, cold);
    if (page.errors.length > 0)
      throw new ExportCorrupt(
        `${page.errors.length} chunk(s) could not be decoded: ${page.errors[0]?.message}`,
      );
    const samples = q.sessionId ? page.samples.filter((s) => s.session_id === q.sessionId) : page.samples;
    if (samples.length > 0) yield samples;
    position = page.next;
  } while (position);
}

/** A pull stream over an async generator of chunks: nothing is read before the client asks for it. */
function pullStream(source: AsyncGenerator<Uint8Array>): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { value, done } = await source.next();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      async cancel() {
        await source.return(undefined);
      },
    },
    { highWaterMark: 0 },
  );
}

/** A value as the replay parser reads it back to the same float64 (String() is the shortest exact form). */
const cell = (v: number) => (Object.is(v, -0) ? "-0" : String(v));

/**
 * CSV in the replay format (tools/sim/replay-csv.ts): a header `t,<channel>...`, then one row per instant with
 * each channel's value or nothing. Samples of one t share a row until a channel repeats (two relays at one t):
 * then a new row with the same t, so replaying the file gives back every sample.
 */
export function exportCsv(
  db: D1Database,
  cold: R2Bucket | null,
  q: ExportQuery,
  channels: readonly string[],
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const column = new Map(channels.map((ch, i) => [ch, i]));
  async function* lines(): AsyncGenerator<Uint8Array> {
    yield encoder.encode(`t,${channels.join(",")}\n`);
    let t: number | null = null;
    let row: string[] = [];
    const line = () => `${t},${row.join(",")}\n`;
    for await (const page of pages(db, cold, q)) {
      let text = "";
      for (const s of page) {
        const i = column.get(s.ch);
        if (i === undefined) continue;
        if (t !== s.t || row[i] !== "") {
          if (t !== null) text += line();
          t = s.t;
          row = channels.map(() => "");
        }
        row[i] = cell(s.v);
      }
      yield encoder.encode(text);
    }
    if (t !== null) yield encoder.encode(line());
  }
  return pullStream(lines());
}

/** One row per sample: every field the read API returns, v as the float64 stored. */
const SCHEMA = [
  { name: "root", num_children: 7 },
  { name: "t", type: "INT64", converted_type: "TIMESTAMP_MILLIS", repetition_type: "REQUIRED" },
  { name: "ch", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "REQUIRED" },
  { name: "v", type: "DOUBLE", repetition_type: "REQUIRED" },
  { name: "relay_id", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "REQUIRED" },
  { name: "session_id", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "REQUIRED" },
  { name: "seq", type: "INT64", repetition_type: "REQUIRED" },
  { name: "idx", type: "INT32", repetition_type: "REQUIRED" },
] as const;

/**
 * Parquet (hyparquet-writer): each page of samples becomes one row group, written out and dropped before the
 * next page is read, so memory holds one page plus the footer's per-row-group metadata (a few hundred bytes per
 * EXPORT_PAGE_SAMPLES samples).
 */
export function exportParquet(
  db: D1Database,
  cold: R2Bucket | null,
  q: ExportQuery,
): ReadableStream<Uint8Array> {
  async function* parts(): AsyncGenerator<Uint8Array> {
    const writer = new ByteWriter();
    // biome-ignore lint/suspicious/noExplicitAny: the library's SchemaElement type is not exported in its d.ts
    const parquet = new ParquetWriter({ writer, schema: SCHEMA as any, codec: "SNAPPY" });
    const take = () => {
      const bytes = writer.getBytes().slice();
      // ByteWriter keeps `offset` (the file position) and lets its buffer index restart once bytes are out.
      (writer as unknown as { index: number }).index = 0;
      return bytes;
    };
    for await (const page of pages(db, cold, q)) {
      await parquet.write({
        rowGroupSize: page.length,
        columnData: [
          { name: "t", data: page.map((s) => BigInt(s.t)) },
          { name: "ch", data: page.map((s) => s.ch) },
          { name: "v", data: Float64Array.from(page, (s) => s.v) },
          { name: "relay_id", data: page.map((s) => s.relay_id) },
          { name: "session_id", data: page.map((s) => s.session_id) },
          { name: "seq", data: page.map((s) => BigInt(s.seq)) },
          { name: "idx", data: Int32Array.from(page, (s) => s.idx) },
        ],
      });
      yield take();
    }
    await parquet.finish();
    yield take();
  }
  return pullStream(parts());
}
