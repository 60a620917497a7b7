import { entropyBits } from "./byte-entropy";
import { type ByteReader, ByteWriter } from "./byte-io";
import { ChunkDecodeError } from "./chunk-decode-error";

/** How a chunk stores v (the mode byte of the value column). */
export const ValueMode = { decimalDelta: 0, decimal: 1, float64: 2, float64Planes: 3 } as const;

/** Largest k tried for "every v is an integer / 10^k". */
const MAX_DECIMAL_DIGITS = 6;

// Sensor readings are mostly integers or a few decimals: as integers scaled by 10^k they are small varints
// (their deltas smaller still), where their float64 bit patterns are 8 noisy bytes. A chunk is stored that way
// only if m / 10^k gives back every v bit for bit; anything else is stored as raw float64 bytes, losslessly.

/** The smallest k with v = m / 10^k exactly for every v (m a safe integer, no -0), and the m, or null. */
export function decimalScaling(vs: readonly number[]): { k: number; ms: number[] } | null {
  for (let k = 0; k <= MAX_DECIMAL_DIGITS; k++) {
    const p = 10 ** k;
    const ms = new Array<number>(vs.length);
    let ok = true;
    for (let i = 0; i < vs.length && ok; i++) {
      const v = vs[i] as number;
      const m = Math.round(v * p);
      ok = Math.abs(m) <= Number.MAX_SAFE_INTEGER && m / p === v && !Object.is(v, -0);
      ms[i] = m;
    }
    if (ok) return { k, ms };
  }
  return null;
}

/**
 * Writes the value column. Decimal chunks: scaled integers, as deltas or plain, whichever bytes are more
 * regular. Other chunks: float64 as it is when few distinct values repeat (deflate finds whole 8-byte values),
 * else byte planes (noisy values share their high bytes). Choosing here rather than compressing both halves
 * the deflate work of a float chunk (docs/storage-format.md, "Why these encodings").
 */
export function writeValueColumn(vs: readonly number[]): Uint8Array {
  const scaled = decimalScaling(vs);
  if (scaled) {
    const delta = new ByteWriter(vs.length + 16);
    const plain = new ByteWriter(vs.length + 16);
    let prev = 0;
    for (const m of scaled.ms) {
      delta.svarintDiff(m, prev);
      plain.svarint(m);
      prev = m;
    }
    const a = delta.finish();
    const b = plain.finish();
    const usePlain = entropyBits(b) < entropyBits(a);
    const w = new ByteWriter(Math.max(a.length, b.length) + 2);
    w.u8(usePlain ? ValueMode.decimal : ValueMode.decimalDelta);
    w.u8(scaled.k);
    w.bytes(usePlain ? b : a);
    return w.finish();
  }
  const n = vs.length;
  const le = new Uint8Array(1 + 8 * n);
  le[0] = ValueMode.float64;
  const view = new DataView(le.buffer);
  for (let i = 0; i < n; i++) view.setFloat64(1 + 8 * i, vs[i] as number, true);
  if (fewDistinct(vs)) return le;
  // Byte planes: the most significant byte (sign, exponent) of every value, then the next byte of every value…
  const planes = new Uint8Array(1 + 8 * n);
  planes[0] = ValueMode.float64Planes;
  for (let i = 0; i < n; i++) {
    for (let b = 0; b < 8; b++) planes[1 + (7 - b) * n + i] = le[1 + 8 * i + b] as number;
  }
  return planes;
}

/** At most one distinct value in eight (Object.is: -0 and 0 differ); stops counting past that. */
function fewDistinct(vs: readonly number[]): boolean {
  const cap = Math.max(1, Math.floor(vs.length / 8));
  const seen = new Set<number>();
  let negativeZero = false;
  for (const v of vs) {
    if (Object.is(v, -0)) negativeZero = true;
    else seen.add(v);
    if (seen.size + (negativeZero ? 1 : 0) > cap) return false;
  }
  return true;
}

export function readValueColumn(r: ByteReader, count: number): number[] {
  const mode = r.u8("value column: mode");
  const vs = new Array<number>(count);
  if (mode === ValueMode.decimalDelta || mode === ValueMode.decimal) {
    const k = r.u8("value column: decimal digits");
    if (k > MAX_DECIMAL_DIGITS) {
      throw new ChunkDecodeError(`value column: decimal digits ${k} > ${MAX_DECIMAL_DIGITS}`);
    }
    const p = 10 ** k;
    const max = Number.MAX_SAFE_INTEGER;
    let m = 0;
    for (let i = 0; i < count; i++) {
      m = r.addSvarint(mode === ValueMode.decimalDelta ? m : 0, `value column: sample ${i}`, -max, max);
      vs[i] = m / p;
    }
  } else if (mode === ValueMode.float64 || mode === ValueMode.float64Planes) {
    const raw = r.bytes(8 * count, "value column: float64 values");
    const le = new Uint8Array(8 * count);
    if (mode === ValueMode.float64) {
      le.set(raw);
    } else {
      for (let i = 0; i < count; i++) {
        for (let b = 0; b < 8; b++) le[8 * i + b] = raw[(7 - b) * count + i] as number;
      }
    }
    const view = new DataView(le.buffer);
    for (let i = 0; i < count; i++) {
      const v = view.getFloat64(8 * i, true);
      if (!Number.isFinite(v)) throw new ChunkDecodeError(`value column: sample ${i} is ${v}, not finite`);
      vs[i] = v;
    }
  } else {
    throw new ChunkDecodeError(`value column: unknown mode ${mode}`);
  }
  return vs;
}
