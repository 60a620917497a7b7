import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { SampleBuffer } from "./sample-buffer";
import { openStores, STREAM_STATE_SCHEMA } from "./stores";

describe("the sample buffer", () => {
  it("flushes a row buffered before the columns existed from its text, and new rows from their columns", async () => {
    await runInDurableObject(env.USER_STREAM.getByName("buffer-upgrade"), (_instance, state) => {
      const sql = state.storage.sql;
      sql.exec("DROP TABLE IF EXISTS buffer");
      // The table as 0.3.0 made it, holding one frame.
      sql.exec(`CREATE TABLE buffer (id INTEGER PRIMARY KEY, relay_id TEXT NOT NULL, session_id TEXT NOT NULL,
        seq INTEGER NOT NULL, n INTEGER NOT NULL, flushed INTEGER NOT NULL DEFAULT 0, t_min INTEGER NOT NULL,
        t_max INTEGER NOT NULL, samples TEXT NOT NULL, print INTEGER)`);
      const old = [
        { t: 10, ch: "a", v: 1.5 },
        { t: 11, ch: "b", v: -2 },
      ];
      sql.exec(
        "INSERT INTO buffer (id, relay_id, session_id, seq, n, t_min, t_max, samples) VALUES (1, 'r', 's', 1, 2, 10, 11, ?)",
        JSON.stringify(old),
      );

      expect(SampleBuffer.prepare(sql)).toBe(true);
      const buffer = new SampleBuffer(sql);
      const fresh = [{ t: 12, ch: "b", v: 3 }];
      buffer.append(
        {
          frame: { type: "samples", relay_id: "r", session_id: "s", seq: 2, samples: fresh },
          samplesJson: JSON.stringify(fresh),
          tMin: 12,
          tMax: 12,
        },
        0,
      );
      const stored = sql
        .exec<{ id: number; has: number }>("SELECT id, cols IS NOT NULL AS has FROM buffer")
        .toArray();
      expect(stored).toEqual([
        { id: 1, has: 0 },
        { id: 2, has: 1 },
      ]);

      const read = buffer.selectForFlush(100).pieces.map(({ frame: { columns } }) =>
        Array.from(columns.t, (t, i) => ({
          t,
          ch: columns.channels[columns.ch[i] as number],
          v: columns.v[i],
        })),
      );
      expect(read).toEqual([old, fresh]);
    });
  });

  it("prepares the tables once per release; a 0.2 buffer is rebuilt without AUTOINCREMENT once it is empty", async () => {
    await runInDurableObject(env.USER_STREAM.getByName("schema-gate"), (_instance, state) => {
      const sql = state.storage.sql;
      for (const t of ["buffer", "meta"]) sql.exec(`DROP TABLE IF EXISTS ${t}`);
      sql.exec(`CREATE TABLE buffer (id INTEGER PRIMARY KEY AUTOINCREMENT, relay_id TEXT NOT NULL,
        session_id TEXT NOT NULL, seq INTEGER NOT NULL, n INTEGER NOT NULL, flushed INTEGER NOT NULL DEFAULT 0,
        t_min INTEGER NOT NULL, t_max INTEGER NOT NULL, samples TEXT NOT NULL)`);
      sql.exec(
        "INSERT INTO buffer (relay_id, session_id, seq, n, t_min, t_max, samples) VALUES ('r', 's', 1, 1, 5, 5, ?)",
        JSON.stringify([{ t: 5, ch: "a", v: 1 }]),
      );
      const schema = () =>
        sql.exec("SELECT value FROM meta WHERE key = 'schema'").toArray()[0]?.value ?? null;
      const table = () =>
        sql.exec<{ sql: string }>("SELECT sql FROM sqlite_master WHERE name = 'buffer'").one().sql;

      const stores = openStores(sql);
      expect(stores.buffer.size).toBe(1);
      expect(schema()).toBeNull(); // not stamped: the buffer still waits for its rebuild
      expect(table()).toContain("AUTOINCREMENT");

      stores.buffer.release(stores.buffer.selectForFlush(10));
      openStores(sql);
      expect(table()).not.toContain("AUTOINCREMENT");
      expect(schema()).toBe(STREAM_STATE_SCHEMA);
      expect(openStores(sql).buffer.size).toBe(0);
    });
  });

  it("names the tables' schema it stamps: change a table, bump STREAM_STATE_SCHEMA", async () => {
    await runInDurableObject(env.USER_STREAM.getByName("schema-print"), (_instance, state) => {
      const rows = state.storage.sql
        .exec<{ sql: string }>(
          "SELECT sql FROM sqlite_master WHERE name IN ('meta', 'buffer', 'acked_ranges', 'relay_floors', 'acked_prints', 'sessions') ORDER BY name",
        )
        .toArray();
      const text = rows.map((r) => r.sql.replace(/\s+/g, " ")).join("\n");
      let hash = 0;
      for (let i = 0; i < text.length; i++) hash = (Math.imul(hash, 31) + text.charCodeAt(i)) | 0;
      // A wake-up skips the tables' preparation when the stamp matches: a changed table with the same stamp
      // would never reach existing objects.
      expect({ version: STREAM_STATE_SCHEMA, hash }).toEqual({ version: 1, hash: -213563696 });
    });
  });
});
