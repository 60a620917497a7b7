import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { AckedSeqs, WINDOW_MS, WINDOW_SEQS } from "./acked-seqs";

/** Runs `body` with the SQLite storage of a fresh object of its own. */
function withSql<T>(name: string, body: (sql: SqlStorage) => T): Promise<T> {
  return runInDurableObject(env.USER_STREAM.getByName(name), (_instance, state) => body(state.storage.sql));
}

/** Commits frames of `relay` with these seqs (print = seq * 10), then releases them as a flush would. */
function addAll(acked: AckedSeqs, relay: string, seqs: Iterable<number>, now: number): void {
  const frames = [...seqs].map((seq) => ({ relayId: relay, seq, print: seq * 10 }));
  for (const frame of frames) acked.committed(frame);
  acked.released(frames, now);
}

describe("AckedSeqs", () => {
  it("merges acked seqs into ranges, in any order, and reads them back after a restart", async () => {
    await withSql("acked-merge", (sql) => {
      const acked = new AckedSeqs(sql, []);
      addAll(acked, "r", [1, 2, 3, 7, 5, 6, 10], 1_000);
      expect(sql.exec("SELECT lo, hi FROM acked_ranges ORDER BY lo").toArray()).toEqual([
        { lo: 1, hi: 3 },
        { lo: 5, hi: 7 },
        { lo: 10, hi: 10 },
      ]);
      addAll(acked, "r", [4, 9, 8], 2_000);
      expect(sql.exec("SELECT lo, hi, acked_at FROM acked_ranges").toArray()).toEqual([
        { lo: 1, hi: 10, acked_at: 2_000 },
      ]);
      const reopened = new AckedSeqs(sql, []);
      expect([1, 10, 11].map((seq) => reopened.status("r", seq))).toEqual(["acked", "acked", "new"]);
      expect(reopened.status("other", 1)).toBe("new");
    });
  });

  it("forgets the lowest seqs only when they are both older than the window and beyond its count", async () => {
    await withSql("acked-window", (sql) => {
      const acked = new AckedSeqs(sql, []);
      const t0 = 1_000_000;
      // Every other seq: WINDOW_SEQS + 10 ranges, old.
      addAll(
        acked,
        "r",
        Array.from({ length: WINDOW_SEQS + 10 }, (_, i) => 2 * i + 1),
        t0,
      );
      expect(acked.floor("r")).toBe(0); // more than WINDOW_SEQS, but younger than WINDOW_MS: kept
      addAll(acked, "r", [10_000_000], t0 + WINDOW_MS);
      // Now the oldest ones go, down to WINDOW_SEQS seqs; below the floor nothing is known any more.
      expect(acked.floor("r")).toBe(2 * 10 + 1);
      expect(acked.status("r", 1)).toBe("forgotten");
      expect(acked.status("r", 2)).toBe("forgotten");
      expect(acked.status("r", 23)).toBe("acked");
      expect(acked.status("r", 24)).toBe("new");
      expect(new AckedSeqs(sql, []).floor("r")).toBe(21);
    });
  });

  it("keeps a restarted numbering apart from the old one", async () => {
    await withSql("acked-restart", (sql) => {
      const acked = new AckedSeqs(sql, []);
      addAll(acked, "r", [Number.MAX_SAFE_INTEGER], 0);
      addAll(
        acked,
        "r",
        Array.from({ length: WINDOW_SEQS + 5 }, (_, i) => i + 1),
        WINDOW_MS * 2,
      );
      // The new numbering runs on as one range; the old high seq stays a duplicate.
      addAll(acked, "r", [WINDOW_SEQS + 6], WINDOW_MS * 4);
      expect(acked.status("r", Number.MAX_SAFE_INTEGER)).toBe("acked");
      expect(acked.status("r", WINDOW_SEQS + 7)).toBe("new");
      expect(sql.exec("SELECT lo, hi FROM acked_ranges ORDER BY lo").toArray()).toEqual([
        { lo: 1, hi: WINDOW_SEQS + 6 },
        { lo: Number.MAX_SAFE_INTEGER, hi: Number.MAX_SAFE_INTEGER },
      ]);
    });
  });

  it("keeps scattered seqs for the whole window, however many ranges they make", async () => {
    await withSql("acked-scatter", (sql) => {
      const acked = new AckedSeqs(sql, []);
      const t0 = 1_000_000;
      // Every other seq, 25,000 frames: 25,000 ranges, all younger than the window.
      addAll(
        acked,
        "r",
        Array.from({ length: 25_000 }, (_, i) => 2 * i + 1),
        t0,
      );
      // Six seconds later each is still a duplicate, and each gap is still new.
      addAll(acked, "r", [100_001], t0 + 6_000);
      expect(acked.floor("r")).toBe(0);
      expect([1, 2, 49_999, 50_000].map((seq) => acked.status("r", seq))).toEqual([
        "acked",
        "new",
        "acked",
        "new",
      ]);
      expect(acked.printOf("r", 1)).toBe(10);
      // Past the window, the oldest go, down to the last 10,000 seqs.
      addAll(acked, "r", [100_003], t0 + WINDOW_MS + 6_000);
      expect(acked.status("r", 1)).toBe("forgotten");
      expect(acked.status("r", 2 * (25_000 - WINDOW_SEQS + 2) + 1)).toBe("acked");
    });
  });

  it("tells the print of an acked seq, from the buffer and after its release, also after a restart", async () => {
    await withSql("acked-prints", (sql) => {
      const acked = new AckedSeqs(sql, [{ relayId: "r", seq: 9, print: 90 }]);
      expect(acked.status("r", 9)).toBe("acked");
      expect(acked.printOf("r", 9)).toBe(90);
      addAll(acked, "r", [1, 2, 3], 1_000);
      const reopened = new AckedSeqs(sql, []);
      expect(reopened.printOf("r", 2)).toBe(20);
      expect(reopened.status("r", 9)).toBe("new"); // its buffer row is the record: not passed, not known
      acked.released([{ relayId: "r", seq: 9, print: null }], 2_000);
      expect(new AckedSeqs(sql, []).printOf("r", 9)).toBeNull();
      expect(new AckedSeqs(sql, []).status("r", 9)).toBe("acked");
    });
  });

  it("writes one prints row per relay and release, not one per frame", async () => {
    await withSql("acked-rows", (sql) => {
      const acked = new AckedSeqs(sql, []);
      addAll(
        acked,
        "r",
        Array.from({ length: 100 }, (_, i) => i + 1),
        1_000,
      );
      expect(sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM acked_prints").one().n).toBe(1);
      expect(sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM acked_ranges").one().n).toBe(1);
    });
  });

  it("converts 0.1's high marks and holes: every seq up to the mark but the holes was acked", async () => {
    await withSql("acked-migrate", (sql) => {
      sql.exec(`CREATE TABLE relays (relay_id TEXT PRIMARY KEY, high_seq INTEGER NOT NULL, last_seen INTEGER NOT NULL);
        CREATE TABLE relay_holes (relay_id TEXT NOT NULL, seq INTEGER NOT NULL, refused_at INTEGER NOT NULL,
          PRIMARY KEY (relay_id, seq));
        INSERT INTO relays VALUES ('a', 10, 5), ('b', 3, 5);
        INSERT INTO relay_holes VALUES ('a', 4, 1), ('a', 5, 1), ('a', 10, 1), ('b', 7, 1)`);
      AckedSeqs.prepare(sql); // what the first wake-up under this release runs
      const acked = new AckedSeqs(sql, []);
      const status = (relay: string, seqs: number[]) => seqs.map((seq) => acked.status(relay, seq));
      expect(status("a", [1, 3, 4, 5, 6, 9, 10, 11])).toEqual([
        "acked",
        "acked",
        "new",
        "new",
        "acked",
        "acked",
        "new",
        "new",
      ]);
      expect(status("b", [1, 3, 4, 7])).toEqual(["acked", "acked", "new", "new"]);
      const tables = sql
        .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE name IN ('relays', 'relay_holes')")
        .toArray();
      expect(tables).toEqual([]);
    });
  });
});
