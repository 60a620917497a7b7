import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { framePrint } from "./frame-print";
import { parseClientFrame } from "./parse-frame";

const LIMITS = { maxFrameBytes: 1 << 20, maxSamplesPerFrame: 10_000 };
/** framePrint("s", '[{"t":1,"ch":"a","v":1.5}]') as release 0.3.0 computed it before its loops were split. */
const PRINT_OF_0_3_0 = 1_699_653_035_288_755;

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

  it("is the print earlier releases stored: cyrb53 of the session id, a NUL and the samples", () => {
    // Acked seqs keep their prints across upgrades, so a resend is compared with a print an older release made.
    const reference = (sessionId: string, samplesJson: string) => {
      const text = `${sessionId}\u0000${samplesJson}`;
      let h1 = 0xdeadbeef ^ sessionId.length;
      let h2 = 0x41c6ce57 ^ samplesJson.length;
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        h1 = Math.imul(h1 ^ c, 2654435761);
        h2 = Math.imul(h2 ^ c, 1597334677);
      }
      h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
      h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
      return 4294967296 * (2097151 & h2) + (h1 >>> 0);
    };
    expect(framePrint("s", '[{"t":1,"ch":"a","v":1.5}]')).toBe(PRINT_OF_0_3_0);
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), fc.string({ unit: "binary" }), (s, j) => {
        expect(framePrint(s, j)).toBe(reference(s, j));
      }),
      { numRuns: 500 },
    );
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
