import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { peekSamplesHead } from "./peek-frame";

const id = fc.stringMatching(/^[A-Za-z0-9_.-]{1,64}$/);
const sample = fc.record({ t: fc.nat(), ch: id, v: fc.double({ noNaN: true, noDefaultInfinity: true }) });

describe("peekSamplesHead", () => {
  it("reads relay_id and seq of any samples frame, whatever the field order and spacing", () => {
    fc.assert(
      fc.property(
        id,
        id,
        fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        fc.array(sample, { minLength: 1, maxLength: 20 }),
        fc.shuffledSubarray(["type", "relay_id", "session_id", "seq", "samples"], { minLength: 5 }),
        fc.boolean(),
        (relayId, sessionId, seq, samples, order, spaced) => {
          const frame: Record<string, unknown> = {
            type: "samples",
            relay_id: relayId,
            session_id: sessionId,
            seq,
            samples,
          };
          const text = JSON.stringify(
            Object.fromEntries(order.map((k) => [k, frame[k]])),
            null,
            spaced ? 1 : 0,
          );
          expect(peekSamplesHead(text)).toEqual({ relayId, seq });
        },
      ),
      { numRuns: 300 },
    );
  });

  it("gives up (null: parse it) on what it cannot read exactly", () => {
    for (const text of [
      '{"type":"ping"}',
      '{"type":"samples","relay_id":"r1","samples":[]}',
      '{"type":"samples","relay_id":"r 1","seq":3}',
      '{"type":"samples","relay_id":"r1","seq":3.5}',
      '{"type":"samples","relay_id":"r1","seq":99999999999999999}',
      "not json at all",
    ]) {
      expect(peekSamplesHead(text), text).toBeNull();
    }
  });
});

describe("peekSamplesHead reads the top level only", () => {
  const json = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: "small" },
      fc.constantFrom("seq", "relay_id", '"seq":7', '\\"', "{", "]"),
      fc.integer(),
      fc.boolean(),
      fc.array(tie("value"), { maxLength: 3 }),
      fc.dictionary(fc.constantFrom("seq", "relay_id", "type", "x"), tie("value"), { maxKeys: 3 }),
    ),
  })).value;

  it("agrees with JSON.parse whatever nested keys, strings and extra fields the frame carries", () => {
    fc.assert(
      fc.property(
        id,
        fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        fc.array(fc.record({ t: fc.nat(), ch: id, v: fc.integer(), seq: json, relay_id: json })),
        fc.dictionary(fc.stringMatching(/^x[a-z]{0,5}$/), json, { maxKeys: 3 }),
        fc.boolean(),
        (relayId, seq, samples, extra, spaced) => {
          const frame = { ...extra, type: "samples", samples, relay_id: relayId, seq };
          const text = JSON.stringify(frame, null, spaced ? 2 : 0);
          const parsed = JSON.parse(text) as { relay_id: string; seq: number };
          expect(peekSamplesHead(text)).toEqual({ relayId: parsed.relay_id, seq: parsed.seq });
        },
      ),
      { numRuns: 300 },
    );
  });

  it("takes the last of a repeated key, as JSON.parse does, and skips a seq inside a sample", () => {
    const text =
      '{"type":"samples","seq":1,"relay_id":"a","samples":[{"seq":9,"t":1}],"seq":2,"relay_id":"b"}';
    expect(peekSamplesHead(text)).toEqual({ relayId: "b", seq: 2 });
    expect(peekSamplesHead('{"x":{"seq":5},"type":"samples","relay_id":"r","seq":3,"samples":[]}')).toEqual({
      relayId: "r",
      seq: 3,
    });
    expect(peekSamplesHead('{"x":"\\"seq\\":5","type":"samples","relay_id":"r","seq":4}')).toEqual({
      relayId: "r",
      seq: 4,
    });
  });
});
