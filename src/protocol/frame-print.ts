/**
 * A frame's content fingerprint: a 53-bit hash of its session id and its samples' canonical JSON (exactly
 * {t, ch, v} per sample, as the parser writes it, so spacing, key order and extra fields of the relay's text do
 * not count; -0 stays distinct from 0). Two frames of one relay with the same seq and the same print are one
 * frame resent; another print means the seq was reused (docs/protocol.md, "Acks and duplicates").
 *
 * cyrb53 (public domain, bryc): two 32-bit multiply-xorshift lanes. Not cryptographic, and it need not be: a
 * relay gains nothing by forging a collision with its own earlier frame.
 */
export function framePrint(sessionId: string, samplesJson: string): number {
  let h1 = 0xdeadbeef ^ sessionId.length;
  let h2 = 0x41c6ce57 ^ samplesJson.length;
  // The session id, a NUL, then the samples: two plain loops rather than one over the three strings, which
  // V8 in workerd ran 2.3 times slower (BENCHMARKS.md, "What bounds the figures").
  for (let i = 0; i < sessionId.length; i++) {
    const c = sessionId.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1, 2654435761);
  h2 = Math.imul(h2, 1597334677);
  for (let i = 0; i < samplesJson.length; i++) {
    const c = samplesJson.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}
