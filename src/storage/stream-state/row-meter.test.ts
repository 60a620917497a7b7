import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { framePrint } from "../../protocol/frame-print";
import type { ParsedSamples } from "../../protocol/parse-frame";
import { RowMeter } from "./row-meter";
import { openStores } from "./stores";

function parsed(relay: string, seq: number, n = 10): ParsedSamples {
  const samples = Array.from({ length: n }, (_, i) => ({ t: seq * 1000 + i, ch: "a", v: i }));
  return {
    frame: { type: "samples", relay_id: relay, session_id: "s1", seq, samples },
    samplesJson: JSON.stringify(samples),
    tMin: seq * 1000,
    tMax: seq * 1000 + n - 1,
  };
}

/** The commit transaction's writes, as src/stream/commit.ts makes them. */
function commit(stores: ReturnType<typeof openStores>, frames: ParsedSamples[]): void {
  const buffered = frames.map((parsed) => {
    const { frame } = parsed;
    const print = framePrint(frame.session_id, parsed.samplesJson);
    stores.sessions.start(frame.session_id, frame.relay_id, 0);
    stores.acked.committed({ relayId: frame.relay_id, seq: frame.seq, print });
    return { parsed, print };
  });
  stores.buffer.append(buffered);
  const samples = frames.reduce((sum, p) => sum + p.frame.samples.length, 0);
  stores.sessions.addSamples("s1", samples);
}

describe("rows the object writes (billed like D1)", () => {
  it("a commit writes one row however many frames it holds; a flush deletes the commits' shared row", async () => {
    await runInDurableObject(env.USER_STREAM.getByName("rows-meter"), (_i, state) => {
      const meter = new RowMeter(state.storage.sql);
      const stores = openStores(meter.sql);
      state.storage.transactionSync(() => commit(stores, [parsed("r1", 1)]));
      meter.take(); // the session's first row
      const perCommit: number[] = [];
      for (let seq = 2; seq <= 21; seq++) {
        state.storage.transactionSync(() => commit(stores, [parsed("r1", seq)]));
        perCommit.push(meter.take());
      }
      expect(new Set(perCommit)).toEqual(new Set([1]));
      state.storage.transactionSync(() =>
        commit(stores, [parsed("r1", 22), parsed("r1", 23), parsed("r2", 1), parsed("r2", 2)]),
      );
      expect(meter.take()).toBe(1);

      // The flush's object side: the one row of these 22 commits (25 frames) deleted, their acks folded into
      // ranges and one prints row per relay.
      const selection = stores.buffer.selectForFlush(1_000);
      state.storage.transactionSync(() => {
        stores.acked.released(stores.buffer.release(selection), Date.now());
        stores.meta.pendingFlush = null;
      });
      const flushRows = meter.take();
      expect(flushRows).toBeGreaterThanOrEqual(1);
      expect(flushRows).toBeLessThanOrEqual(1 + 6);
      // Whole life of a commit: its insert or append, and a share of one delete and the flush's bookkeeping.
      console.log(`object rows written: 1 per commit, ${flushRows} for a flush of 22 commits (25 frames)`);
    });
  });
});
