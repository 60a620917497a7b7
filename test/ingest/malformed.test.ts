import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { BASE, connect, type Frame, samplesFrame, tokenFor } from "../support/ws-client";

const valid = samplesFrame("r1", "s1", 7, 2);
const withSamples = (samples: unknown) => JSON.stringify({ ...valid, samples });
const withField = (field: string, value: unknown) => JSON.stringify({ ...valid, [field]: value });
const sample = { t: 1_763_700_000_000, ch: "hr", v: 1 };

/** [what, frame text, code, message start]: each must be refused, naming what was wrong. */
const corpus: [string, string, "invalid" | "too_large", string][] = [
  ["not JSON", "hello", "invalid", "frame is not valid JSON"],
  ["truncated JSON", '{"type":"samples",', "invalid", "frame is not valid JSON"],
  ["NaN literal", withSamples([sample]).replace('"v":1', '"v":NaN'), "invalid", "frame is not valid JSON"],
  [
    "Infinity literal",
    withSamples([sample]).replace('"v":1', '"v":Infinity'),
    "invalid",
    "frame is not valid JSON",
  ],
  ["array", "[1,2]", "invalid", "frame must be a JSON object"],
  ["number", "42", "invalid", "frame must be a JSON object"],
  ["no type", "{}", "invalid", "type: missing or not a string"],
  ["numeric type", '{"type":5}', "invalid", "type: missing or not a string"],
  ["unknown type", '{"type":"launch"}', "invalid", 'type: unknown frame type "launch"'],
  [
    "missing relay_id",
    JSON.stringify({ ...valid, relay_id: undefined }),
    "invalid",
    "relay_id: must be 1-64",
  ],
  ["bad relay_id", withField("relay_id", "r 1"), "invalid", "relay_id: must be 1-64"],
  ["long session_id", withField("session_id", "s".repeat(65)), "invalid", "session_id: must be 1-64"],
  ["numeric session_id", withField("session_id", 12), "invalid", "session_id: must be 1-64"],
  ["missing seq", withField("seq", undefined), "invalid", "seq: must be a positive integer"],
  ["zero seq", withField("seq", 0), "invalid", "seq: must be a positive integer"],
  ["fractional seq", withField("seq", 1.5), "invalid", "seq: must be a positive integer"],
  ["string seq", withField("seq", "3"), "invalid", "seq: must be a positive integer"],
  ["samples not an array", withSamples({ t: 1 }), "invalid", "samples: must be an array"],
  ["no samples", withSamples([]), "invalid", "samples: must not be empty"],
  ["sample not an object", withSamples([sample, 3]), "invalid", "samples[1]: must be an object"],
  ["string t", withSamples([{ ...sample, t: "now" }]), "invalid", "samples[0].t: must be epoch milliseconds"],
  ["negative t", withSamples([{ ...sample, t: -1 }]), "invalid", "samples[0].t: must be epoch milliseconds"],
  [
    "fractional t",
    withSamples([sample, { ...sample, t: 1.5 }]),
    "invalid",
    "samples[1].t: must be epoch milliseconds",
  ],
  [
    "t beyond the readable range",
    withSamples([{ ...sample, t: Number.MAX_SAFE_INTEGER }]),
    "invalid",
    "samples[0].t: must be epoch milliseconds",
  ],
  // What the runtime makes of invalid UTF-8 in a text message: U+FFFD replacement characters.
  ["invalid UTF-8 in text", withField("note", "caf\uFFFD"), "invalid", "frame is not UTF-8 text"],
  ["bad ch", withSamples([{ ...sample, ch: "heart rate" }]), "invalid", "samples[0].ch: must be 1-64"],
  ["missing ch", withSamples([{ t: 1, v: 1 }]), "invalid", "samples[0].ch: must be 1-64"],
  // JSON.stringify turns NaN and Infinity into null; some clients send them as strings.
  [
    "NaN as null",
    withSamples([{ ...sample, v: Number.NaN }]),
    "invalid",
    "samples[0].v: must be a finite number",
  ],
  [
    "NaN as string",
    withSamples([{ ...sample, v: "NaN" }]),
    "invalid",
    "samples[0].v: must be a finite number",
  ],
  [
    "overflowing v",
    withSamples([sample]).replace('"v":1', '"v":1e999'),
    "invalid",
    "samples[0].v: must be a finite",
  ],
  [
    "missing v",
    withSamples([sample, sample, { t: 1, ch: "x" }]),
    "invalid",
    "samples[2].v: must be a finite",
  ],
  [
    "session_start without relay_id",
    '{"type":"session_start","session_id":"s1"}',
    "invalid",
    "relay_id: must be 1-64",
  ],
  [
    "session_end with bad id",
    '{"type":"session_end","session_id":"a/b"}',
    "invalid",
    "session_id: must be 1-64",
  ],
  [
    "too many samples",
    withSamples(Array.from({ length: 10_001 }, () => sample)),
    "too_large",
    "samples: 10001 samples, at most 10000",
  ],
  [
    "over MAX_FRAME_BYTES",
    withField("padding", "x".repeat(1_048_576)),
    "too_large",
    "frame is larger than 1048576 bytes",
  ],
];

function parsesAs(text: string, test: (frame: Frame) => boolean): boolean {
  try {
    return test(JSON.parse(text));
  } catch {
    return false;
  }
}

describe("malformed frames", () => {
  it("each gets an error frame naming the field, and the socket stays usable", async () => {
    const relay = await connect("relay", "malformed");
    for (const [what, text, code, message] of corpus) {
      const reply = await relay.request(text);
      expect(reply, what).toMatchObject({ type: "error", code });
      expect(reply.message, what).toMatch(new RegExp(`^${message.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
      // A samples frame whose seq could be read carries it in its error, so the relay can match it (an
      // oversized frame is refused before it is parsed).
      const oversized = message.startsWith("frame is larger");
      const seqReadable = !oversized && parsesAs(text, (f) => f.type === "samples" && f.seq === 7);
      expect(reply.seq, what).toBe(seqReadable ? 7 : undefined);
    }
    relay.ws.send(new Uint8Array([0xff, 0xfe, 0x00]));
    expect(await relay.next()).toMatchObject({
      type: "error",
      code: "invalid",
      message: "frame is not UTF-8 text",
    });
    expect(relay.closed).toBeNull();
    expect(await relay.request(valid)).toEqual({ type: "ack", seq: 7 });
  });

  it("over HTTP answer 400 invalid and 413 too_large with the same error frames", async () => {
    const token = await tokenFor("malformed-http", "relay");
    const post = (body: string) =>
      exports.default.fetch(`${BASE}/v1/users/malformed-http/samples`, {
        method: "POST",
        headers: { Authorization: `Bearer ${token}` },
        body,
      });
    for (const [what, text, code, message] of corpus) {
      const res = await post(text);
      expect(res.status, what).toBe(code === "invalid" ? 400 : 413);
      const reply = (await res.json()) as Frame;
      expect(reply, what).toMatchObject({ type: "error", code });
      expect(reply.message.startsWith(message), what).toBe(true);
    }
    const ping = await post('{"type":"ping"}');
    expect(ping.status).toBe(400);
    expect(await ping.json()).toMatchObject({ message: "type: this route takes a samples frame, got ping" });
  });
});
