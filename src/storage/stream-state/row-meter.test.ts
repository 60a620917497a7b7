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

/** The commit transaction's writes, as durable-objects/user-stream.ts makes them. */
function commit(stores: ReturnType<typeof openStores>, frames: ParsedSamples[]): void {
  for (const p of frames) {
    const { frame } = p;
    const print = framePrint(frame.session_id, p.samplesJson);
    stores.sessions.start(frame.session_id, frame.relay_id, 0);
    stores.buffer.append(p, print);
    stores.acked.committed({ relayId: frame.relay_id, seq: frame.seq, print });
    stores.sessions.addSamples(frame.session_id, frame.samples.length);
  }
}

describe("rows the object writes (billed like D1)", () => {
  it("a committed frame writes one row; several frames together one each; a flush one per frame plus a few", async () => {
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
      expect(meter.take()).toBe(4);

      // The flush's object side: 25 frames deleted, their acks folded into ranges and one prints row per relay.
      const selection = stores.buffer.selectForFlush(1_000);
      state.storage.transactionSync(() => {
        stores.acked.released(stores.buffer.release(selection), Date.now());
        stores.meta.pendingFlush = null;
      });
      const flushRows = meter.take();
      expect(flushRows).toBeGreaterThanOrEqual(25);
      expect(flushRows).toBeLessThanOrEqual(25 + 6);
      // Whole life of a frame: its insert and its delete, plus under 0.3 of a row for the flush's bookkeeping.
      console.log(`object rows written: 1 per commit, ${flushRows} for a flush of 25 frames`);
    });
  });
});
