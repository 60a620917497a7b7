import type { Sample } from "../../protocol/frames";
import type { ParsedSamples } from "../../protocol/parse-frame";
import type { FrameSlice } from "../d1/chunk-rows";
import type { AckedFrame } from "./acked-seqs";
import { columnsOf, decodeFrameColumnBlocks, encodeFrameColumns, type FrameColumns } from "./frame-columns";

/**
 * The user's durable sample buffer in the Durable Object's SQLite storage (docs/storage-format.md, "The buffer").
 *
 * Frames share rows, because each row written is billed and a flush deletes row by row: a commit's frames go in
 * one row, and while the newest row is small (OPEN_ROW_BYTES) and no flush has selected it, later commits are
 * appended to it (one UPDATE each). A row keeps the samples twice: the frames' JSON texts one after the other
 * (fan-out and backlog send each as it is) and each frame in columns (frame-columns.ts), which the D1 flush reads
 * without parsing. Its `frames` list names each frame (relay, session, seq, samples, content print): the durable
 * record of their acks until the flush. Rows leave only after D1 has them; `flushed` counts the samples of a row
 * (frames in order) already in D1. Row ids are given here, not by AUTOINCREMENT, whose `sqlite_sequence` update
 * would be one more billed row per commit.
 */

/** A frame the buffer holds: what `frames` keeps of it, in the order of its row. */
interface FrameEntry {
  relayId: string;
  sessionId: string;
  seq: number;
  /** Samples in the frame. */
  n: number;
  /** Content print (null: stored by a release before prints). */
  print: number | null;
  tMin: number;
  tMax: number;
  /** Length of the frame's JSON text in the row's `samples`. */
  textLength: number;
}

/** `frames` holds each frame as this array, in the order of the fields of FrameEntry. */
type StoredEntry = [string, string, number, number, number | null, number, number, number];

/** A part of the buffer chosen for one D1 flush: whole rows, and at most one row cut at the end. */
export interface FlushSelection {
  /** The selection's samples per frame, in acceptance order: the D1 writer's input. */
  slices: FrameSlice[];
  /** Samples in the selection. */
  total: number;
  /** Where it ends: a retried flush selects exactly up to here again, so it writes the same chunks. */
  end: FlushEnd | null;
  /** The last row ends with the selection (it leaves the buffer with the others). */
  endsRow: boolean;
}

/** The last row of a selection and the sample index within it that the selection stops before. */
export interface FlushEnd {
  /** Names the batch in D1 (`flush_marks`), so that a retry of it inserts nothing (set by the flusher). */
  flushId?: string;
  id: number;
  end: number;
}

/** A frame to store: its validated samples and content print. */
export interface FrameToBuffer {
  parsed: ParsedSamples;
  print: number;
}

/**
 * A row's size at most, text and columns, before a commit's frames go to a further row: a Durable Object's SQLite
 * row is at most 2 MB (https://developers.cloudflare.com/durable-objects/platform/limits/). A single larger frame
 * still takes one row, as it would alone.
 */
const ROW_BYTES = 1_000_000;
/**
 * Commits are appended to the newest row while it is under this size: an append rewrites the row, so this bounds
 * what one commit rewrites (a few SQLite pages), and a slow relay's frames still share a row per ~16 KB.
 */
const OPEN_ROW_BYTES = 16_384;
/**
 * A frame whose text and columns together pass this is kept without columns, alone in its row: with its text
 * (at most MAX_FRAME_BYTES, 1 MiB) it stays under the 2 MB row limit, and the flush reads it from its text.
 */
const FRAME_WITH_COLUMNS_BYTES = 1_500_000;

/** The newest row while commits may still be appended to it (in memory: a new object starts a new row). */
interface OpenRow {
  id: number;
  bytes: number;
}

const CREATE_BUFFER = `CREATE TABLE IF NOT EXISTS buffer_commits (
  id       INTEGER PRIMARY KEY,
  n        INTEGER NOT NULL,
  flushed  INTEGER NOT NULL DEFAULT 0,
  t_min    INTEGER NOT NULL,
  t_max    INTEGER NOT NULL,
  frames   TEXT    NOT NULL,
  samples  TEXT    NOT NULL,
  cols     BLOB
)`;

/** One line per buffered frame: what an operator (and a test) reads to see the buffer. */
const CREATE_FRAMES_VIEW = `CREATE VIEW IF NOT EXISTS buffered_frames AS
SELECT c.id AS row_id, f.key AS position, f.value ->> 0 AS relay_id, f.value ->> 1 AS session_id, f.value ->> 2 AS seq,
       f.value ->> 3 AS n, f.value ->> 4 AS print
FROM buffer_commits AS c, json_each(c.frames) AS f`;

export class SampleBuffer {
  #size: number;
  #nextId: number;
  #open: OpenRow | null = null;

  constructor(private readonly sql: SqlStorage) {
    const row = sql
      .exec<{ size: number; last: number }>(
        "SELECT COALESCE(SUM(n - flushed), 0) AS size, COALESCE(MAX(id), 0) AS last FROM buffer_commits",
      )
      .one();
    this.#size = row.size;
    this.#nextId = row.last + 1;
  }

  /** Creates the table; the frame rows of an earlier release (`buffer`) move into it, each as its own row. */
  static prepare(sql: SqlStorage, hasFrameRows: boolean): void {
    sql.exec(CREATE_BUFFER);
    sql.exec(CREATE_FRAMES_VIEW);
    if (!hasFrameRows) return;
    const columns = new Set(
      sql
        .exec<{ name: string }>("SELECT name FROM pragma_table_info('buffer')")
        .toArray()
        .map((c) => c.name),
    );
    const print = columns.has("print") ? "print" : "NULL AS print";
    const cols = columns.has("cols") ? "cols" : "NULL AS cols";
    const rows = sql.exec<{
      id: number;
      relay_id: string;
      session_id: string;
      seq: number;
      n: number;
      flushed: number;
      t_min: number;
      t_max: number;
      samples: string;
      print: number | null;
      cols: ArrayBuffer | null;
    }>(
      `SELECT id, relay_id, session_id, seq, n, flushed, t_min, t_max, samples, ${print}, ${cols} FROM buffer`,
    );
    for (const r of rows) {
      const entry: StoredEntry = [
        r.relay_id,
        r.session_id,
        r.seq,
        r.n,
        r.print,
        r.t_min,
        r.t_max,
        r.samples.length,
      ];
      sql.exec(
        "INSERT INTO buffer_commits (id, n, flushed, t_min, t_max, frames, samples, cols) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        r.id,
        r.n,
        r.flushed,
        r.t_min,
        r.t_max,
        JSON.stringify([entry]),
        r.samples,
        r.cols,
      );
    }
    sql.exec("DROP TABLE buffer");
  }

  /** Every buffered frame's relay, session, seq, print and samples not yet in D1. */
  *frames(): Generator<AckedFrame & { sessionId: string; pending: number }> {
    for (const row of this.sql.exec<{ flushed: number; frames: string }>(
      "SELECT flushed, frames FROM buffer_commits",
    )) {
      let start = 0;
      for (const e of entriesOf(row.frames)) {
        const pending = start + e.n - Math.max(start, row.flushed);
        yield {
          relayId: e.relayId,
          sessionId: e.sessionId,
          seq: e.seq,
          print: e.print,
          pending: Math.max(0, pending),
        };
        start += e.n;
      }
    }
  }

  /** Samples waiting for D1. */
  get size(): number {
    return this.#size;
  }

  /**
   * Stores the validated frames of one commit (in its transaction): appended to the open row if it is small
   * enough, else in a new row (one per ROW_BYTES), which stays open for the next commits.
   */
  append(frames: readonly FrameToBuffer[]): void {
    // A commit of duplicates and session frames only stores nothing.
    if (frames.length === 0) return;
    const stored = frames.map(toStored);
    const open = this.#open;
    const bytes = stored.reduce((sum, f) => sum + f.bytes, 0);
    if (
      open &&
      open.bytes < OPEN_ROW_BYTES &&
      open.bytes + bytes <= ROW_BYTES &&
      stored.every((f) => f.cols)
    ) {
      this.#extend(open, stored);
      return;
    }
    let from = 0;
    let rowBytes = 0;
    for (let i = 0; i < stored.length; i++) {
      const frame = stored[i] as StoredFrame;
      if (i > from && (rowBytes + frame.bytes > ROW_BYTES || !frame.cols)) {
        this.#insert(stored.slice(from, i));
        from = i;
        rowBytes = 0;
      }
      rowBytes += frame.bytes;
      // A frame without columns takes a row of its own.
      if (!frame.cols) {
        this.#insert([frame]);
        from = i + 1;
        rowBytes = 0;
      }
    }
    if (stored.length > from) this.#insert(stored.slice(from));
  }

  #insert(frames: readonly StoredFrame[]): void {
    const { n, tMin, tMax, text, cols, bytes } = joined(frames);
    const columns = frames.every((f) => f.cols) ? cols : null;
    const entries = frames.map((f) => f.entry);
    this.sql.exec(
      "INSERT INTO buffer_commits (id, n, t_min, t_max, frames, samples, cols) VALUES (?, ?, ?, ?, ?, ?, ?)",
      this.#nextId,
      n,
      tMin,
      tMax,
      JSON.stringify(entries),
      text,
      columns,
    );
    this.#open = columns ? { id: this.#nextId, bytes } : null;
    this.#nextId++;
    this.#size += n;
  }

  #extend(open: OpenRow, frames: readonly StoredFrame[]): void {
    const { n, tMin, tMax, text, cols, bytes } = joined(frames);
    // Entries, texts and columns are appended in SQLite: the row's earlier contents are neither read into nor
    // serialized again by JavaScript. The entries' JSON array ends `<number>]]`: rtrim drops both brackets from
    // the end (length and substr would count the whole text), and `],[<new entries>]` closes it again.
    this.sql.exec(
      `UPDATE buffer_commits SET n = n + ?, t_min = MIN(t_min, ?), t_max = MAX(t_max, ?),
       frames = rtrim(frames, ']') || '],' || ?,
       samples = samples || ?, cols = CAST(cols || ? AS BLOB) WHERE id = ?`,
      n,
      tMin,
      tMax,
      JSON.stringify(frames.map((f) => f.entry)).slice(1),
      text,
      cols,
      open.id,
    );
    // Memory follows only once the statement succeeded (a failed commit reopens the stores).
    open.bytes += bytes;
    this.#size += n;
  }

  /**
   * Buffered frames with samples newer than `sinceMs`, in acceptance order, each cut down to those samples
   * (the backlog a consumer asks for with `?since=`).
   */
  *newerThan(
    sinceMs: number,
  ): Generator<{ relayId: string; sessionId: string; seq: number; samplesJson: string }> {
    const rows = this.sql.exec<{ frames: string; samples: string }>(
      "SELECT frames, samples FROM buffer_commits WHERE t_max > ? ORDER BY id",
      sinceMs,
    );
    for (const row of rows) {
      let at = 0;
      for (const e of entriesOf(row.frames)) {
        const text = row.samples.slice(at, at + e.textLength);
        at += e.textLength;
        if (e.tMax <= sinceMs) continue;
        const samplesJson =
          e.tMin > sinceMs
            ? text
            : JSON.stringify((JSON.parse(text) as { t: number }[]).filter((s) => s.t > sinceMs));
        yield { relayId: e.relayId, sessionId: e.sessionId, seq: e.seq, samplesJson };
      }
    }
  }

  /**
   * The oldest samples, up to `maxSamples`, in acceptance order (a row may be cut to fit); or, given the end of
   * an earlier selection that was not released, exactly that selection again.
   */
  selectForFlush(maxSamples: number, until: FlushEnd | null = null): FlushSelection {
    // Nothing is appended to a row a flush may have selected: its release would drop the appended frames.
    this.#open = null;
    const slices: FrameSlice[] = [];
    let total = 0;
    let end: FlushEnd | null = null;
    let endsRow = false;
    // A row holds at least one sample, so maxSamples rows always suffice. The text is read only for rows
    // buffered by a release without columns.
    const columns = "id, n, flushed, frames, cols, IIF(cols IS NULL, samples, NULL) AS samples";
    const rows = until
      ? this.sql.exec<CommitRow>(`SELECT ${columns} FROM buffer_commits WHERE id <= ? ORDER BY id`, until.id)
      : this.sql.exec<CommitRow>(`SELECT ${columns} FROM buffer_commits ORDER BY id LIMIT ?`, maxSamples);
    for (const row of rows) {
      if (!until && total >= maxSamples) break;
      const stop = until
        ? row.id === until.id
          ? until.end
          : row.n
        : Math.min(row.n, row.flushed + maxSamples - total);
      if (stop <= row.flushed) continue;
      const entries = entriesOf(row.frames);
      const blocks = columnsOfRow(row, entries);
      let start = 0;
      entries.forEach((e, k) => {
        const from = Math.max(start, row.flushed) - start;
        const to = Math.min(start + e.n, stop) - start;
        if (to > from) {
          const { channels, t, v, ch } = blocks[k] as FrameColumns;
          slices.push({
            relayId: e.relayId,
            sessionId: e.sessionId,
            seq: e.seq,
            firstIdx: from,
            channels,
            t: t.subarray(from, to),
            v: v.subarray(from, to),
            ch: ch.subarray(from, to),
          });
        }
        start += e.n;
      });
      total += stop - row.flushed;
      end = { id: row.id, end: stop };
      endsRow = stop >= row.n;
    }
    return { slices, total, end, endsRow };
  }

  /**
   * Drops what a successful flush wrote to D1: one DELETE for the whole rows, and the cut one remembers how far
   * it went. Returns the frames that left the buffer (their acks move to the acked seqs in the same transaction).
   */
  release(selection: FlushSelection): AckedFrame[] {
    if (!selection.end) return [];
    const { id, end } = selection.end;
    const released = this.sql
      .exec<{ frames: string }>(
        "DELETE FROM buffer_commits WHERE id <= ? RETURNING frames",
        selection.endsRow ? id : id - 1,
      )
      .toArray()
      .flatMap((row) =>
        entriesOf(row.frames).map((e) => ({ relayId: e.relayId, seq: e.seq, print: e.print })),
      );
    if (!selection.endsRow) this.sql.exec("UPDATE buffer_commits SET flushed = ? WHERE id = ?", end, id);
    this.#size -= selection.total;
    return released;
  }

  /** Drops every buffered frame (the user's data was erased); returns the samples dropped. */
  clear(): number {
    this.#open = null;
    const dropped = this.#size;
    this.sql.exec("DELETE FROM buffer_commits");
    this.#size = 0;
    return dropped;
  }
}

interface CommitRow extends Record<string, SqlStorageValue> {
  id: number;
  n: number;
  flushed: number;
  frames: string;
  samples: string | null;
  cols: ArrayBuffer | null;
}

function entriesOf(frames: string): FrameEntry[] {
  return (JSON.parse(frames) as StoredEntry[]).map(
    ([relayId, sessionId, seq, n, print, tMin, tMax, textLength]) => ({
      relayId,
      sessionId,
      seq,
      n,
      print,
      tMin,
      tMax,
      textLength,
    }),
  );
}

/** Each frame's columns; a row of a release before them is read from its text. */
function columnsOfRow(row: CommitRow, entries: readonly FrameEntry[]): FrameColumns[] {
  if (row.cols) return decodeFrameColumnBlocks(new Uint8Array(row.cols));
  let at = 0;
  return entries.map((e) => {
    at += e.textLength;
    return columnsOf(JSON.parse((row.samples as string).slice(at - e.textLength, at)) as Sample[]);
  });
}

/** A frame as a row stores it: its `frames` entry, text and columns (null: too large to keep them). */
interface StoredFrame {
  entry: StoredEntry;
  text: string;
  cols: Uint8Array | null;
  bytes: number;
}

function toStored({ parsed, print }: FrameToBuffer): StoredFrame {
  const { frame, samplesJson, tMin, tMax } = parsed;
  const large = samplesJson.length + 20 * frame.samples.length > FRAME_WITH_COLUMNS_BYTES;
  const cols = large ? null : encodeFrameColumns(frame.samples);
  return {
    entry: [
      frame.relay_id,
      frame.session_id,
      frame.seq,
      frame.samples.length,
      print,
      tMin,
      tMax,
      samplesJson.length,
    ],
    text: samplesJson,
    cols,
    bytes: samplesJson.length + (cols?.length ?? 0),
  };
}

/** Frames' texts and columns one after the other, with their sample count and time range. */
function joined(frames: readonly StoredFrame[]) {
  let n = 0;
  let tMin = Number.POSITIVE_INFINITY;
  let tMax = Number.NEGATIVE_INFINITY;
  let bytes = 0;
  const cols = new Uint8Array(frames.reduce((sum, f) => sum + (f.cols?.length ?? 0), 0));
  let at = 0;
  for (const { entry, cols: block, bytes: size } of frames) {
    n += entry[3];
    tMin = Math.min(tMin, entry[5]);
    tMax = Math.max(tMax, entry[6]);
    if (block) cols.set(block, at);
    at += block?.length ?? 0;
    bytes += size;
  }
  return { n, tMin, tMax, text: frames.map((f) => f.text).join(""), cols, bytes };
}
