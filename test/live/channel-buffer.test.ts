import { describe, expect, it } from "vitest";
import { ChannelBuffer, MAX_LIVE_POINTS } from "../../public/live/channel-buffer.js";
import { ageText, refusalText } from "../../public/live/messages.js";
import { redactToken } from "../../public/live/redact.js";

describe("live view: a channel's live samples", () => {
  it("keeps samples sorted, a late one in place, and the newest relay and session", () => {
    const b = new ChannelBuffer("hr");
    b.add(10, 1, "r1", "s1", 0);
    b.add(30, 3, "r1", "s1", 0);
    b.add(20, 2, "r2", "s9", 0);
    expect(b.t).toEqual([10, 20, 30]);
    expect(b.v).toEqual([1, 2, 3]);
    expect([b.lastT, b.lastV, b.relayId, b.sessionId]).toEqual([30, 3, "r1", "s1"]);
  });

  it("drops the oldest samples beyond MAX_LIVE_POINTS", () => {
    const b = new ChannelBuffer("hr");
    const n = Math.ceil(MAX_LIVE_POINTS * 1.1) + 1;
    for (let i = 0; i < n; i++) b.add(i, i, "r", "s", 0);
    expect(b.size).toBe(MAX_LIVE_POINTS);
    expect(b.t[0]).toBe(n - MAX_LIVE_POINTS);
  });

  it("measures samples per second on sample time, and reads 0 once the stream stops", () => {
    const b = new ChannelBuffer("hr");
    for (let i = 0; i < 500; i++) b.add(1_000_000 + i * 20, i, "r", "s", 50_000); // 50 Hz for 10 s
    expect(b.rate(50_000)).toBeCloseTo(50, 5);
    expect(b.rate(56_000)).toBe(0);
  });
});

describe("live view: texts", () => {
  it("never shows the token of a stream URL", () => {
    expect(redactToken("ws://h:1/v1/consume?user_id=a&since=5&token=eyJ.secret.sig")).toBe(
      "ws://h:1/v1/consume?user_id=a&since=5&token=hidden",
    );
  });

  it("says what a refusal means, in the server's words", () => {
    expect(refusalText(401, "token expired", "alice")).toMatch(/^Token expired \(401\)/);
    expect(refusalText(401, "invalid token: signature verification failed", "alice")).toMatch(
      /^Token refused \(401\).*signature verification failed/,
    );
    expect(refusalText(403, 'token is for another user, not "alice"', "alice")).toContain(
      "may not read user “alice” (403)",
    );
    expect(ageText(340)).toBe("0.3 s");
    expect(ageText(90_000)).toBe("90 s");
    expect(ageText(600_000)).toBe("10 min");
  });
});
