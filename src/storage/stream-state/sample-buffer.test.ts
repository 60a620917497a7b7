import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { SampleBuffer } from "./sample-buffer";

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
});
