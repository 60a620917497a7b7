import { uncompress } from "snappyjs";
import { afterEach, describe, expect, it, vi } from "vitest";
import { postPush, retryAfterMs } from "./push-request";
import { EndedSeries, pushRemoteWrite } from "./remote-write";

/** A receiver answering from a script, one entry per request (the last repeats); records each request. */
function receiver(script: (n: number, body: Uint8Array) => Response | "hang") {
  const seen: Uint8Array[] = [];
  vi.stubGlobal("fetch", async (_input: RequestInfo, init?: RequestInit) => {
    const body = new Uint8Array(init?.body as Uint8Array);
    seen.push(body);
    const answer = script(seen.length, body);
    if (answer === "hang") {
      return new Promise<Response>((_, reject) =>
        init?.signal?.addEventListener("abort", () => reject(init.signal?.reason)),
      );
    }
    return answer;
  });
  return seen;
}

const remoteWriteRetry = (status: number) => status >= 500 || status === 429;
const policy = (over: Partial<{ timeoutMs: number; deadline: number }> = {}) => ({
  timeoutMs: 1_000,
  deadline: Date.now() + 3_000,
  backoffMs: 10,
  retryable: remoteWriteRetry,
  ...over,
});

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe("postPush", () => {
  it("retries a 500 with backoff until it succeeds", async () => {
    const seen = receiver((n) => new Response(null, { status: n < 3 ? 500 : 204 }));
    expect(await postPush("https://rw.test/push", { body: "x" }, policy())).toMatchObject({
      outcome: "success",
      attempts: 3,
    });
    expect(seen).toHaveLength(3);
  });

  it("honours Retry-After of a 429, and gives up at once when it points past the deadline", async () => {
    receiver((n) =>
      n === 1 ? new Response(null, { status: 429, headers: { "Retry-After": "1" } }) : new Response(null),
    );
    const started = Date.now();
    expect((await postPush("https://rw.test/push", { body: "x" }, policy())).outcome).toBe("success");
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    const seen = receiver(() => new Response(null, { status: 429, headers: { "Retry-After": "3600" } }));
    expect(await postPush("https://rw.test/push", { body: "x" }, policy())).toMatchObject({
      outcome: "failure",
      status: 429,
      attempts: 1,
    });
    expect(seen).toHaveLength(1);
  });

  it("never retries a 400, and aborts a hung receiver at the timeout", async () => {
    const seen = receiver(() => new Response("bad labels", { status: 400 }));
    expect(await postPush("https://rw.test/push", { body: "x" }, policy())).toMatchObject({
      outcome: "rejected",
      detail: "bad labels",
    });
    expect(seen).toHaveLength(1);
    receiver(() => "hang");
    const started = Date.now();
    expect((await postPush("https://rw.test/push", { body: "x" }, policy({ timeoutMs: 200 }))).outcome).toBe(
      "timeout",
    );
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("reads Retry-After as seconds or as a date", () => {
    expect(retryAfterMs("120", 0)).toBe(120_000);
    expect(retryAfterMs(new Date(60_000).toUTCString(), 0)).toBe(60_000);
    expect(retryAfterMs("soon", 0)).toBeNull();
    expect(retryAfterMs(null)).toBeNull();
  });
});

describe("pushRemoteWrite", () => {
  const target = {
    url: "https://rw.test/api/v1/write",
    username: "u",
    password: "p",
    job: "zander-edge",
    instance: "metrics-shard-0",
  };
  const samples = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ labels: { __name__: "m", i: String(i) }, value: i }));

  it("attempts every batch when one is refused, and splits a batch the receiver finds too large", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const seen = receiver((n) => {
      if (n === 1) return new Response("out of order", { status: 400 });
      if (n === 2) return new Response(null, { status: 413 });
      return new Response(null, { status: 204 });
    });
    const { outcomes, series } = await pushRemoteWrite(target, samples(5_000), 1_700_000_000_000, {
      timeoutMs: 1_000,
      deadline: Date.now() + 3_000,
      backoffMs: 10,
    });
    expect(series).toBe(5_000);
    // 2,000 series per request: the first refused, the second split in two halves, the third sent as it is.
    expect(outcomes).toEqual(["rejected", "success", "success", "success"]);
    expect(seen.map((b) => b.length > 0)).toHaveLength(5);
    expect(seen[2]?.length).toBeLessThan(seen[1]?.length ?? 0);
  });

  it("marks a series that is gone since the last push stale, once", async () => {
    const bodies = receiver(() => new Response(null, { status: 204 }));
    const ended = new EndedSeries();
    const policy = { timeoutMs: 1_000, deadline: Date.now() + 3_000, backoffMs: 10 };
    const push = async (names: string[]) => {
      const samples = names.map((n) => ({ labels: { __name__: "m", series: n }, value: 1 }));
      await pushRemoteWrite(target, samples, 1_700_000_000_000, policy, ended);
      return new TextDecoder("latin1").decode(uncompress(bodies.at(-1) as Uint8Array));
    };
    // Field 1 of Sample, wire type 1 (0x09), then the NaN 0x7ff0000000000002 little-endian.
    const STALE = "\x09\x02\x00\x00\x00\x00\x00\xf0\x7f";
    expect(await push(["alpha", "beta"])).not.toContain(STALE);
    const second = await push(["alpha"]);
    expect(second.split(STALE)).toHaveLength(2);
    expect(second).toContain("beta");
    expect(await push(["alpha"])).not.toContain(STALE);
  });
});
