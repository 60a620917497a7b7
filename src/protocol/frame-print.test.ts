import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { framePrint } from "./frame-print";
import { parseClientFrame } from "./parse-frame";

const LIMITS = { maxFrameBytes: 1 << 20, maxSamplesPerFrame: 10_000 };

function printOf(text: string): number {
  const parsed = parseClientFrame(text, LIMITS);
  if (!parsed.ok || !parsed.samples) throw new Error(`not a samples frame: ${text}`);
  return framePrint(parsed.samples.frame.session_id, parsed.samples.samplesJson);
}

describe("framePrint", () => {
  it("is a safe integer, the same for the same content whatever the spelling", () => {
    const a = printOf(
      '{"type":"samples","relay_id":"r","session_id":"s","seq":1,"samples":[{"t":1,"ch":"a","v":1.5}]}',
    );
    const b = printOf(
      '{ "seq":1, "samples":[ {"v":1.50, "ch":"a", "t":1, "extra":true} ], "session_id":"s", "relay_id":"r", "type":"samples" }',
    );
    expect(Number.isSafeInteger(a)).toBe(true);
    expect(b).toBe(a);
  });

  it("differs for another session, another sample, and -0 against 0", () => {
    const frame = (session: string, v: string) =>
      `{"type":"samples","relay_id":"r","session_id":"${session}","seq":1,"samples":[{"t":1,"ch":"a","v":${v}}]}`;
    const base = printOf(frame("s", "0"));
    expect(printOf(frame("s2", "0"))).not.toBe(base);
    expect(printOf(frame("s", "1"))).not.toBe(base);
    expect(printOf(frame("s", "-0"))).not.toBe(base);
  });

  it("separates the session id from the samples", () => {
    expect(framePrint("ab", "c")).not.toBe(framePrint("a", "bc"));
  });

  it("tells distinct contents apart (no collision among generated frames)", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(fc.stringMatching(/^[a-z]{1,8}$/), fc.string({ maxLength: 40 })), {
          minLength: 2,
          maxLength: 50,
          selector: ([s, j]) => `${s}\u0000${j}`,
        }),
        (contents) => {
          const prints = new Set(contents.map(([s, j]) => framePrint(s, j)));
          expect(prints.size).toBe(contents.length);
        },
      ),
      { numRuns: 200 },
    );
  });
});
