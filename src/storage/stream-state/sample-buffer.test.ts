import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Sample } from "../../protocol/frames";
import { encodeFrameColumns } from "./frame-columns";
import type { FlushSelection, FrameToBuffer } from "./sample-buffer";
import { openStores, STREAM_STATE_SCHEMA } from "./stores";

function parsed(relay: string, seq: number, samples: Sample[]): FrameToBuffer {
  return {
    parsed: {
      frame: { type: "samples", relay_id: relay, session_id: "s", seq, samples },
      samplesJson: JSON.stringify(samples),
      tMin: Math.min(...samples.map((x) => x.t)),
      tMax: Math.max(...samples.map((x) => x.t)),
    },
    print: seq,
  };
}

/** The samples of a selection as the writer gets them, per frame. */
function written(
  selection: FlushSelection,
): { seq: number; idx: number; t: number; ch: string; v: number }[] {
  return selection.slices.flatMap(({ seq, firstIdx, channels, t, v, ch }) =>
    Array.from(t, (tt, i) => ({
      seq,
      idx: firstIdx + i,
      t: tt,
      ch: channels[ch[i] as number] as string,
      v: v[i] as number,
    })),
  );
}

const frameA = [
  { t: 10, ch: "a", v: 1.5 },
  { t: 11, ch: "b", v: -2 },
];
const frameB = [{ t: 12, ch: "b", v: 3 }];
const frameC = [
  { t: 13, ch: "c", v: 4 },
  { t: 14, ch: "a", v: 5 },
  { t: 15, ch: "c", v: 6 },
];

describe("the sample buffer", () => {
  it("keeps commits in one row until a flush selects it: backlog texts as sent, flush slices per frame, cut and retried exactly", async () => {
    await runInDurableObject(env.USER_STREAM.getByName("buffer-pack"), (_instance, state) => {
      const sql = state.storage.sql;
      const { buffer } = openStores(sql);
      buffer.append([parsed("r1", 1, frameA), parsed("r2", 7, frameB)]);
      buffer.append([parsed("r1", 2, frameC)]);
      // A commit of no frame (duplicates and session frames only) leaves the row as it was.
      const row = sql.exec("SELECT * FROM buffer_commits").one();
      buffer.append([]);
      expect(sql.exec("SELECT * FROM buffer_commits").one()).toEqual(row);
      expect(sql.exec("SELECT COUNT(*) AS rows FROM buffer_commits").one().rows).toBe(1);
      expect(
        sql.exec("SELECT relay_id, seq, n FROM buffered_frames ORDER BY row_id, position").toArray(),
      ).toEqual([
        { relay_id: "r1", seq: 1, n: 2 },
        { relay_id: "r2", seq: 7, n: 1 },
        { relay_id: "r1", seq: 2, n: 3 },
      ]);
      expect(buffer.size).toBe(6);
      expect([...buffer.newerThan(0)].map((f) => [f.relayId, f.seq, f.samplesJson])).toEqual([
        ["r1", 1, JSON.stringify(frameA)],
        ["r2", 7, JSON.stringify(frameB)],
        ["r1", 2, JSON.stringify(frameC)],
      ]);
      expect([...buffer.newerThan(13)].map((f) => [f.seq, f.samplesJson])).toEqual([
        [2, JSON.stringify(frameC.slice(1))],
      ]);

      // A flush of 4 samples cuts the row inside frame C; a retry of it selects the same.
      const first = buffer.selectForFlush(4);
      expect(written(first).map((x) => `${x.seq}/${x.idx}`)).toEqual(["1/0", "1/1", "7/0", "2/0"]);
      expect(first.end).toEqual({ id: 1, end: 4 });
      expect(written(buffer.selectForFlush(100, first.end))).toEqual(written(first));
      expect(buffer.release(first)).toEqual([]); // no frame left: the row stays, cut
      expect(buffer.size).toBe(2);
      expect([...buffer.frames()].map((f) => f.pending)).toEqual([0, 0, 2]);
      // A row a flush selected takes no more frames: the next commit starts a row.
      buffer.append([parsed("r2", 8, frameB)]);
      expect(sql.exec("SELECT row_id, seq FROM buffered_frames WHERE seq = 8").toArray()).toEqual([
        { row_id: 2, seq: 8 },
      ]);

      const rest = buffer.selectForFlush(100);
      expect(written(rest)).toEqual([
        { seq: 2, idx: 1, t: 14, ch: "a", v: 5 },
        { seq: 2, idx: 2, t: 15, ch: "c", v: 6 },
        { seq: 8, idx: 0, t: 12, ch: "b", v: 3 },
      ]);
      expect(buffer.release(rest)).toEqual([
        { relayId: "r1", seq: 1, print: 1 },
        { relayId: "r2", seq: 7, print: 7 },
        { relayId: "r1", seq: 2, print: 2 },
        { relayId: "r2", seq: 8, print: 8 },
      ]);
      expect(buffer.size).toBe(0);
      expect(sql.exec("SELECT COUNT(*) AS rows FROM buffer_commits").one().rows).toBe(0);
    });
  });

  it("starts a further row for the frames of a commit past the row size", async () => {
    await runInDurableObject(env.USER_STREAM.getByName("buffer-rows"), (_instance, state) => {
      const sql = state.storage.sql;
      const { buffer } = openStores(sql);
      const big = (seq: number) =>
        parsed(
          "r",
          seq,
          Array.from({ length: 8_000 }, (_, i) => ({ t: seq * 10_000 + i, ch: "ch", v: i / 3 })),
        );
      // ~0.5 MB each in text and columns: two fit a row, the third starts another.
      buffer.append([big(1), big(2), big(3)]);
      expect(sql.exec("SELECT row_id, seq FROM buffered_frames ORDER BY row_id, position").toArray()).toEqual(
        [
          { row_id: 1, seq: 1 },
          { row_id: 1, seq: 2 },
          { row_id: 2, seq: 3 },
        ],
      );
      expect(written(buffer.selectForFlush(100_000))).toHaveLength(24_000);
    });
  });

  it("keeps a frame too large for its columns alone in a row, flushed from its text", async () => {
    await runInDurableObject(env.USER_STREAM.getByName("buffer-large"), (_instance, state) => {
      const sql = state.storage.sql;
      const { buffer } = openStores(sql);
      // ~1.3 MB of text and 0.7 MB of columns: past what a row takes with both (a row is at most 2 MB).
      const large = Array.from({ length: 35_000 }, (_, i) => ({
        t: 1_700_000_000_000 + i,
        ch: "a",
        v: i / 7,
      }));
      buffer.append([parsed("r", 1, frameA), parsed("r", 2, large), parsed("r", 3, frameB)]);
      buffer.append([parsed("r", 4, frameC)]);
      expect(
        sql.exec("SELECT id, cols IS NULL AS text_only FROM buffer_commits ORDER BY id").toArray(),
      ).toEqual([
        { id: 1, text_only: 0 },
        { id: 2, text_only: 1 },
        { id: 3, text_only: 0 },
      ]);
      const samples = written(buffer.selectForFlush(100_000));
      expect(samples).toHaveLength(2 + 35_000 + 1 + 3);
      expect(samples[2 + 34_999]).toEqual({
        seq: 2,
        idx: 34_999,
        t: 1_700_000_034_999,
        ch: "a",
        v: 34_999 / 7,
      });
    });
  });

  it("moves the frame rows of an earlier release into commit rows, flushing one without columns from its text", async () => {
    await runInDurableObject(env.USER_STREAM.getByName("buffer-upgrade"), (_instance, state) => {
      const sql = state.storage.sql;
      for (const t of ["buffer", "buffer_commits", "meta"]) sql.exec(`DROP TABLE IF EXISTS ${t}`);
      sql.exec("DROP VIEW IF EXISTS buffered_frames");
      // The table as 0.3.0 made it; its first frame was buffered by 0.2 (no print, no columns), half flushed.
      sql.exec(`CREATE TABLE buffer (id INTEGER PRIMARY KEY, relay_id TEXT NOT NULL, session_id TEXT NOT NULL,
        seq INTEGER NOT NULL, n INTEGER NOT NULL, flushed INTEGER NOT NULL DEFAULT 0, t_min INTEGER NOT NULL,
        t_max INTEGER NOT NULL, samples TEXT NOT NULL, print INTEGER, cols BLOB)`);
      sql.exec(
        "INSERT INTO buffer (id, relay_id, session_id, seq, n, flushed, t_min, t_max, samples) VALUES (4, 'r', 's', 1, 2, 1, 10, 11, ?)",
        JSON.stringify(frameA),
      );
      sql.exec(
        "INSERT INTO buffer (id, relay_id, session_id, seq, n, t_min, t_max, samples, print, cols) VALUES (5, 'r', 's', 2, 1, 12, 12, ?, 99, ?)",
        JSON.stringify(frameB),
        encodeFrameColumns(frameB),
      );

      const { buffer, acked } = openStores(sql);
      expect(sql.exec("SELECT name FROM sqlite_master WHERE name = 'buffer'").toArray()).toEqual([]);
      expect(buffer.size).toBe(2);
      expect([acked.status("r", 1), acked.printOf("r", 2)]).toEqual(["acked", 99]);
      expect(written(buffer.selectForFlush(100))).toEqual([
        { seq: 1, idx: 1, t: 11, ch: "b", v: -2 },
        { seq: 2, idx: 0, t: 12, ch: "b", v: 3 },
      ]);
      buffer.append([parsed("r", 3, frameC)]);
      expect(sql.exec("SELECT id FROM buffer_commits ORDER BY id").toArray()).toEqual([
        { id: 4 },
        { id: 5 },
        { id: 6 },
      ]);
      expect(openStores(sql).buffer.size).toBe(5);
    });
  });

  it("names the tables' schema it stamps: change a table, bump STREAM_STATE_SCHEMA", async () => {
    await runInDurableObject(env.USER_STREAM.getByName("schema-print"), (_instance, state) => {
      const rows = state.storage.sql
        .exec<{ sql: string }>(
          "SELECT sql FROM sqlite_master WHERE name IN ('meta', 'buffer_commits', 'buffered_frames', 'acked_ranges', 'relay_floors', 'acked_prints', 'sessions') ORDER BY name",
        )
        .toArray();
      const text = rows.map((r) => r.sql.replace(/\s+/g, " ")).join("\n");
      let hash = 0;
      for (let i = 0; i < text.length; i++) hash = (Math.imul(hash, 31) + text.charCodeAt(i)) | 0;
      // A wake-up skips the tables' preparation when the stamp matches: a changed table with the same stamp
      // would never reach existing objects.
      expect({ version: STREAM_STATE_SCHEMA, hash }).toEqual({ version: 2, hash: 788570985 });
    });
  });
});
