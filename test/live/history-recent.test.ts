import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { discoverChannels, loadRecent } from "../../public/live/history.js";
import { putWarmChunks } from "../support/tiers";
import { BASE, tokenFor } from "../support/ws-client";

// The page's own history code against the Worker's read routes: its relative fetches go to the Worker.
afterEach(() => vi.unstubAllGlobals());
function pageFetchesWorker() {
  vi.stubGlobal("fetch", (path: string, init: RequestInit) => exports.default.fetch(`${BASE}${path}`, init));
}

describe("the live page's start: no gap between stored history and the stream", () => {
  it("loads every stored sample of the live window, relay clocks 30 s ahead of the browser or 20 s behind", async () => {
    pageFetchesWorker();
    const now = Date.now();
    for (const [user, offset] of [
      ["recent-ahead", 30_000],
      ["recent-behind", -20_000],
    ] as const) {
      const samples = Array.from({ length: 300 }, (_, i) => ({
        seq: 1,
        idx: i,
        t: now + offset + i * 20,
        v: i,
      }));
      await putWarmChunks(user, [{ relay: "skewed", session: "s1", ch: "ax", samples }]);
      const token = await tokenFor(user, "consumer");
      const loaded = await loadRecent(user, token, now - 60_000);
      expect(loaded.map((s: { v: number }) => s.v)).toEqual(samples.map((s) => s.v));
      expect(await discoverChannels(user, token, { from: now - 60_000, to: now + 60_000 })).toEqual(["ax"]);
    }
  });
});
