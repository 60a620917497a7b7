import { entropyBits } from "./byte-entropy";
import { type ByteReader, ByteWriter } from "./byte-io";
import { ChunkDecodeError } from "./chunk-decode-error";

/** How a chunk stores t after the first value (the mode byte of the time column). */
export const TimeMode = { delta: 0, deltaOfDelta: 1 } as const;

// Both modes are zigzag varints of exact differences (deltas within ±(2^53 - 1), deltas-of-deltas within
// ±(2^54 - 2), past what a JS number holds: the writer takes BigInt for those). Per chunk the mode whose bytes have the lower entropy wins: delta-of-delta
// for perfectly regular clocks, plain delta for jittery ones (measured in docs/storage-format.md).

export function writeTimeColumn(w: ByteWriter, ts: readonly number[]): void {
  const delta = new ByteWriter(ts.length + 16);
  const dod = new ByteWriter(ts.length + 16);
  let prevDelta = 0; // the first delta-of-delta is the first delta
  for (let i = 1; i < ts.length; i++) {
    const d = (ts[i] as number) - (ts[i - 1] as number); // exact: |d| < 2^53
    delta.svarint(d);
    dod.svarintDiff(d, prevDelta);
    prevDelta = d;
  }
  const a = delta.finish();
  const b = dod.finish();
  const useDod = entropyBits(b) < entropyBits(a);
  w.u8(useDod ? TimeMode.deltaOfDelta : TimeMode.delta);
  w.uvarint(ts[0] as number);
  w.bytes(useDod ? b : a);
}

export function readTimeColumn(r: ByteReader, count: number): number[] {
  const mode = r.u8("time column: mode");
  if (mode !== TimeMode.delta && mode !== TimeMode.deltaOfDelta) {
    throw new ChunkDecodeError(`time column: unknown mode ${mode}`);
  }
  const max = Number.MAX_SAFE_INTEGER;
  const ts = new Array<number>(count);
  let t = r.uvarint("time column: first t", 0, max);
  ts[0] = t;
  let delta = 0;
  for (let i = 1; i < count; i++) {
    const what = `time column: sample ${i}`;
    delta = r.addSvarint(mode === TimeMode.delta ? 0 : delta, what, -max, max);
    t = t + delta; // both within ±(2^53 - 1): a sum outside 0..2^53-1 is caught below even if it rounded
    if (!(t >= 0 && t <= max)) throw new ChunkDecodeError(`${what}: t out of range 0..${max}`);
    ts[i] = t;
  }
  return ts;
}
