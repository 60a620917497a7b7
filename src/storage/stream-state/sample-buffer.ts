import type { Sample } from "../../protocol/frames";
import type { ParsedSamples } from "../../protocol/parse-frame";
import type { FrameSlice } from "../d1/chunk-rows";
import type { AckedFrame } from "./acked-seqs";
import { columnsOf, decodeFrameColumns, encodeFrameColumns, type FrameColumns } from "./frame-columns";

/**
 * The user's durable sample buffer in the Durable Object's SQLite storage (docs/storage-format.md, "The buffer").
 *
 * One row per commit: the frames one transaction made durable share a row, so a commit costs one INSERT and
 * its flush one DELETE however many frames it holds (each row written is billed). The row keeps the samples
 * twice: the frames' JSON texts one after the other (fan-out and backlog send each as it is) and all of them in
 * columns (frame-columns.ts), which the D1 flush reads without parsing. Its `frames` list names each frame
 * (relay, session, seq, samples, content print): the durable record of their acks until the flush. Rows leave
 * only after D1 has them; `flushed` counts the samples of a row (frames in order) already in D1. Row ids are
 * given here, not by AUTOINCREMENT, whose `sqlite_sequence` update would be one more billed row per commit.
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

  constructor(private readonly sql: SqlStorage) {
    const row = sql
      .exec<{ size: number; last: number }>(
        "SELECT COALESCE(SUM(n - flushed), 0) AS size, COALESCE(MAX(id), 0) AS last FROM buffer_commits",
      )
      .one();
    this.#size = row.size;
    this.#nextId = row.last + 1;
  }

  /** Creates the table; the frame rows of a release before 0.4 (`buffer`) move into it, each as its own row. */
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

  /** Stores the validated frames of one commit (in its transaction): one row, or one per ROW_BYTES. */
  append(frames: readonly FrameToBuffer[]): void {
    let from = 0;
    let bytes = 0;
    for (let i = 0; i < frames.length; i++) {
      const { parsed } = frames[i] as FrameToBuffer;
      const size = parsed.samplesJson.length + 20 * parsed.frame.samples.length;
      if (i > from && bytes + size > ROW_BYTES) {
        this.#insert(frames.slice(from, i));
        from = i;
        bytes = 0;
      }
      bytes += size;
    }
    if (frames.length > from) this.#insert(frames.slice(from));
  }

  #insert(frames: readonly FrameToBuffer[]): void {
    const entries: StoredEntry[] = [];
    let n = 0;
    let tMin = Number.POSITIVE_INFINITY;
    let tMax = Number.NEGATIVE_INFINITY;
    for (const { parsed, print } of frames) {
      const { frame } = parsed;
      const count = frame.samples.length;
      entries.push([
        frame.relay_id,
        frame.session_id,
        frame.seq,
        count,
        print,
        parsed.tMin,
        parsed.tMax,
        parsed.samplesJson.length,
      ]);
      n += count;
      tMin = Math.min(tMin, parsed.tMin);
      tMax = Math.max(tMax, parsed.tMax);
    }
    const only = frames.length === 1 ? (frames[0] as FrameToBuffer).parsed : null;
    this.sql.exec(
      "INSERT INTO buffer_commits (id, n, t_min, t_max, frames, samples, cols) VALUES (?, ?, ?, ?, ?, ?, ?)",
      this.#nextId,
      n,
      tMin,
      tMax,
      JSON.stringify(entries),
      only ? only.samplesJson : frames.map((f) => f.parsed.samplesJson).join(""),
      encodeFrameColumns(only ? only.frame.samples : frames.flatMap((f) => f.parsed.frame.samples)),
    );
    this.#nextId++;
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
      const { channels, t, v, ch } = columnsOfRow(row, entries);
      let start = 0;
      for (const e of entries) {
        const from = Math.max(start, row.flushed);
        const to = Math.min(start + e.n, stop);
        if (to > from) {
          slices.push({
            relayId: e.relayId,
            sessionId: e.sessionId,
            seq: e.seq,
            firstIdx: from - start,
            channels,
            t: t.subarray(from, to),
            v: v.subarray(from, to),
            ch: ch.subarray(from, to),
          });
        }
        start += e.n;
      }
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

/** The row's columns; a row of a release before them is read from its text. */
function columnsOfRow(row: CommitRow, entries: readonly FrameEntry[]): FrameColumns {
  if (row.cols) return decodeFrameColumns(new Uint8Array(row.cols));
  let at = 0;
  const frames = entries.map((e) => {
    at += e.textLength;
    return JSON.parse((row.samples as string).slice(at - e.textLength, at)) as Sample[];
  });
  return columnsOf(frames.flat());
}
