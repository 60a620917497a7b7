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
