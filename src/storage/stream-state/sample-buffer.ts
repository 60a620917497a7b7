import type { Sample } from "../../protocol/frames";
import type { ParsedSamples } from "../../protocol/parse-frame";
import type { AckedFrame } from "./acked-seqs";
import { columnsOf, decodeFrameColumns, encodeFrameColumns, type FrameColumns } from "./frame-columns";

/**
 * The user's durable sample buffer in the Durable Object's SQLite storage (docs/protocol.md, docs/storage-format.md).
 *
 * One row per accepted frame: a frame costs one INSERT whatever its size (never a row per sample). The row
 * keeps the samples twice: as the JSON text they were validated into (fan-out and backlog send it as it is)
 * and in columns (frame-columns.ts) built from the validated samples, which the D1 flush reads without parsing.
 * The row also carries the frame's content print: it is the durable record of the frame's ack until the flush.
 * Rows leave only after D1 has them; `flushed` counts the samples of a row already in D1 when a flush batch
 * ended inside the frame. Row ids are given here, not by AUTOINCREMENT, whose `sqlite_sequence` update would be
 * one more billed row written per frame.
 */

export interface BufferedFrame {
  id: number;
  relayId: string;
  sessionId: string;
  seq: number;
  /** Samples in the frame. */
  count: number;
  /** Samples of the frame already written to D1. */
  flushed: number;
  columns: FrameColumns;
}

/** A part of the buffer chosen for one D1 flush: whole frames, and at most one frame cut at the end. */
export interface FlushSelection {
  pieces: FlushPiece[];
  /** Samples in the selection. */
  total: number;
  /** Where it ends: a retried flush selects exactly up to here again, so it writes the same chunks. */
  end: FlushEnd | null;
}

/** The last frame of a selection and the sample index it stops before. */
export interface FlushEnd {
  /** Names the batch in D1 (`flush_marks`), so that a retry of it inserts nothing (set by the flusher). */
  flushId?: string;
  id: number;
  end: number;
}

export interface FlushPiece {
  frame: BufferedFrame;
  /** Index of the first sample of the piece within its frame. */
  offset: number;
  /** Samples in the piece. */
  count: number;
}

interface FrameRow extends Record<string, SqlStorageValue> {
  id: number;
  relay_id: string;
  session_id: string;
  seq: number;
  n: number;
  flushed: number;
  samples: string | null;
  cols: ArrayBuffer | null;
}

const CREATE_BUFFER = `CREATE TABLE IF NOT EXISTS buffer (
  id          INTEGER PRIMARY KEY,
  relay_id    TEXT    NOT NULL,
  session_id  TEXT    NOT NULL,
  seq         INTEGER NOT NULL,
  n           INTEGER NOT NULL,
  flushed     INTEGER NOT NULL DEFAULT 0,
  t_min       INTEGER NOT NULL,
  t_max       INTEGER NOT NULL,
  samples     TEXT    NOT NULL,
  print       INTEGER,
  cols        BLOB
)`;

export class SampleBuffer {
  #size: number;
  #nextId: number;

  constructor(private readonly sql: SqlStorage) {
    const row = sql
      .exec<{ size: number; last: number }>(
        "SELECT COALESCE(SUM(n - flushed), 0) AS size, COALESCE(MAX(id), 0) AS last FROM buffer",
      )
      .one();
    this.#size = row.size;
    this.#nextId = row.last + 1;
  }

  /**
   * Creates the table, or brings one of an earlier release up to date (0.1's unused received_at, 0.2's missing
   * print and AUTOINCREMENT ids, 0.3's cols). False while an upgrade waits for the buffer to empty.
   */
  static prepare(sql: SqlStorage, fresh = false): boolean {
    sql.exec(CREATE_BUFFER);
    if (fresh) return true;
    const columns = sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('buffer')").toArray();
    if (columns.some((c) => c.name === "received_at")) sql.exec("ALTER TABLE buffer DROP COLUMN received_at");
    if (!columns.some((c) => c.name === "print")) sql.exec("ALTER TABLE buffer ADD COLUMN print INTEGER");
    if (!columns.some((c) => c.name === "cols")) sql.exec("ALTER TABLE buffer ADD COLUMN cols BLOB");
    const table = sql
      .exec<{ sql: string }>("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'buffer'")
      .one();
    const empty = sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM buffer").one().n === 0;
    // Recreated once it is empty: the rows of a non-empty one keep their ids until a flush takes them.
    if (!table.sql.includes("AUTOINCREMENT")) return true;
    if (!empty) return false;
    sql.exec("DROP TABLE buffer");
    sql.exec(CREATE_BUFFER);
    return true;
  }

  /** Every buffered frame's relay, seq and print (the acked seqs rebuild their index of the buffer from it). */
  *frames(): Generator<AckedFrame & { sessionId: string; pending: number }> {
    for (const row of this.sql.exec<{
      relay_id: string;
      session_id: string;
      seq: number;
      print: number | null;
      pending: number;
    }>("SELECT relay_id, session_id, seq, print, n - flushed AS pending FROM buffer")) {
      yield {
        relayId: row.relay_id,
        sessionId: row.session_id,
        seq: row.seq,
        print: row.print,
        pending: row.pending,
      };
    }
  }

  /** Samples waiting for D1. */
  get size(): number {
    return this.#size;
  }

  /** Stores a validated frame (in the commit transaction): its one row written. */
  append({ frame, samplesJson, tMin, tMax }: ParsedSamples, print: number): void {
    this.sql.exec(
      "INSERT INTO buffer (id, relay_id, session_id, seq, n, t_min, t_max, samples, print, cols) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      this.#nextId,
      frame.relay_id,
      frame.session_id,
      frame.seq,
      frame.samples.length,
      tMin,
      tMax,
      samplesJson,
      print,
      encodeFrameColumns(frame.samples),
    );
    this.#nextId++;
    this.#size += frame.samples.length;
  }

  /**
   * Buffered frames with samples newer than `sinceMs`, in acceptance order, each cut down to those samples
   * (the backlog a consumer asks for with `?since=`).
   */
  *newerThan(
    sinceMs: number,
  ): Generator<{ relayId: string; sessionId: string; seq: number; samplesJson: string }> {
    const rows = this.sql.exec<FrameRow & { t_min: number; samples: string }>(
      "SELECT relay_id, session_id, seq, t_min, samples FROM buffer WHERE t_max > ? ORDER BY id",
      sinceMs,
    );
    for (const row of rows) {
      const samplesJson =
        row.t_min > sinceMs
          ? row.samples
          : JSON.stringify((JSON.parse(row.samples) as { t: number }[]).filter((s) => s.t > sinceMs));
      yield { relayId: row.relay_id, sessionId: row.session_id, seq: row.seq, samplesJson };
    }
  }

  /**
   * The oldest samples, up to `maxSamples`, in acceptance order (a frame may be cut to fit); or, given the end
   * of an earlier selection that was not released, exactly that selection again.
   */
  selectForFlush(maxSamples: number, until: FlushEnd | null = null): FlushSelection {
    const pieces: FlushPiece[] = [];
    let total = 0;
    // A frame holds at least one sample, so maxSamples rows always suffice. The text is read only for rows
    // buffered by a release without columns.
    const columns =
      "id, relay_id, session_id, seq, n, flushed, cols, IIF(cols IS NULL, samples, NULL) AS samples";
    const rows = until
      ? this.sql.exec<FrameRow>(`SELECT ${columns} FROM buffer WHERE id <= ? ORDER BY id`, until.id)
      : this.sql.exec<FrameRow>(`SELECT ${columns} FROM buffer ORDER BY id LIMIT ?`, maxSamples);
    for (const row of rows) {
      if (!until && total >= maxSamples) break;
      const stop = until && row.id === until.id ? until.end : row.n;
      const count = until ? stop - row.flushed : Math.min(row.n - row.flushed, maxSamples - total);
      if (count <= 0) continue;
      pieces.push({
        frame: {
          id: row.id,
          relayId: row.relay_id,
          sessionId: row.session_id,
          seq: row.seq,
          count: row.n,
          flushed: row.flushed,
          columns: row.cols
            ? decodeFrameColumns(new Uint8Array(row.cols))
            : columnsOf(JSON.parse(row.samples as string) as Sample[]),
        },
        offset: row.flushed,
        count,
      });
      total += count;
    }
    const last = pieces.at(-1);
    return { pieces, total, end: last ? { id: last.frame.id, end: last.offset + last.count } : null };
  }

  /**
   * Drops what a successful flush wrote to D1. The selection is the oldest frames in id order, whole but for
   * possibly the last one: one DELETE for the whole ones, and the cut one remembers its offset.
   * Returns the frames that left the buffer (their acks move to the acked seqs in the same transaction).
   */
  release(selection: FlushSelection): AckedFrame[] {
    const last = selection.pieces.at(-1);
    if (!last) return [];
    const lastDone = last.offset + last.count >= last.frame.count;
    const wholeUpTo = lastDone ? last.frame.id : last.frame.id - 1;
    const released = this.sql
      .exec<{ relay_id: string; seq: number; print: number | null }>(
        "DELETE FROM buffer WHERE id <= ? RETURNING relay_id, seq, print",
        wholeUpTo,
      )
      .toArray()
      .map((row) => ({ relayId: row.relay_id, seq: row.seq, print: row.print }));
    if (!lastDone)
      this.sql.exec("UPDATE buffer SET flushed = ? WHERE id = ?", last.offset + last.count, last.frame.id);
    this.#size -= selection.total;
    return released;
  }

  /** Drops every buffered frame (the user's data was erased); returns the samples dropped. */
  clear(): number {
    const dropped = this.#size;
    this.sql.exec("DELETE FROM buffer");
    this.#size = 0;
    return dropped;
  }
}
