import type { ParsedSamples } from "../../protocol/parse-frame";

/**
 * The user's durable sample buffer in the Durable Object's SQLite storage (SPEC §3, §4).
 *
 * One row per accepted frame, its samples kept as the JSON text they were validated into: a frame costs one
 * INSERT whatever its size (never a row per sample), and fan-out, backlog and the D1 flush reuse the text.
 * Rows leave only after D1 has them; `flushed` counts the samples of a row already in D1 when a flush batch
 * ended inside the frame.
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
  samplesJson: string;
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
  samples: string;
}

export class SampleBuffer {
  #size: number;

  constructor(private readonly sql: SqlStorage) {
    sql.exec(`CREATE TABLE IF NOT EXISTS buffer (
      id          INTEGER PRIMARY KEY AUTOINCREMENT,
      relay_id    TEXT    NOT NULL,
      session_id  TEXT    NOT NULL,
      seq         INTEGER NOT NULL,
      n           INTEGER NOT NULL,
      flushed     INTEGER NOT NULL DEFAULT 0,
      t_min       INTEGER NOT NULL,
      t_max       INTEGER NOT NULL,
      samples     TEXT    NOT NULL
    )`);
    // 0.1 kept an unused received_at column (NOT NULL): dropped so that appends need not fill it.
    const columns = sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('buffer')").toArray();
    if (columns.some((c) => c.name === "received_at")) sql.exec("ALTER TABLE buffer DROP COLUMN received_at");
    const row = sql.exec<{ size: number }>("SELECT COALESCE(SUM(n - flushed), 0) AS size FROM buffer").one();
    this.#size = row.size;
  }

  /** Samples waiting for D1. */
  get size(): number {
    return this.#size;
  }

  /** Stores a validated frame (in the commit transaction). */
  append({ frame, samplesJson, tMin, tMax }: ParsedSamples): void {
    this.sql.exec(
      "INSERT INTO buffer (relay_id, session_id, seq, n, t_min, t_max, samples) VALUES (?, ?, ?, ?, ?, ?, ?)",
      frame.relay_id,
      frame.session_id,
      frame.seq,
      frame.samples.length,
      tMin,
      tMax,
      samplesJson,
    );
    this.#size += frame.samples.length;
  }

  /**
   * Buffered frames with samples newer than `sinceMs`, in acceptance order, each cut down to those samples
   * (the backlog a consumer asks for with `?since=`).
   */
  *newerThan(
    sinceMs: number,
  ): Generator<{ relayId: string; sessionId: string; seq: number; samplesJson: string }> {
    const rows = this.sql.exec<FrameRow & { t_min: number }>(
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
    // A frame holds at least one sample, so maxSamples rows always suffice.
    const rows = until
      ? this.sql.exec<FrameRow>(
          "SELECT id, relay_id, session_id, seq, n, flushed, samples FROM buffer WHERE id <= ? ORDER BY id",
          until.id,
        )
      : this.sql.exec<FrameRow>(
          "SELECT id, relay_id, session_id, seq, n, flushed, samples FROM buffer ORDER BY id LIMIT ?",
          maxSamples,
        );
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
          samplesJson: row.samples,
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
   */
  release(selection: FlushSelection): void {
    const last = selection.pieces.at(-1);
    if (!last) return;
    const lastDone = last.offset + last.count >= last.frame.count;
    const wholeUpTo = lastDone ? last.frame.id : last.frame.id - 1;
    this.sql.exec("DELETE FROM buffer WHERE id <= ?", wholeUpTo);
    if (!lastDone)
      this.sql.exec("UPDATE buffer SET flushed = ? WHERE id = ?", last.offset + last.count, last.frame.id);
    this.#size -= selection.total;
  }
}
