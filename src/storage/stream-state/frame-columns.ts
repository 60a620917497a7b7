import type { Sample } from "../../protocol/frames";
import type { FrameSlice } from "../d1/chunk-rows";

/**
 * A buffered frame's samples in the form the D1 flush needs, built once when the frame is committed so that
 * the flush never parses JSON again (docs/storage-format.md, "The buffer"). A buffer row holds one such block
 * per frame, one after the other. Layout, little-endian:
 *
 *   u32 n, u32 channels, then per channel: u16 byte length + its UTF-8 name; zero padding to a multiple of 8;
 *   f64 t[n]; f64 v[n]; u32 channel index[n].
 *
 * 20 bytes per sample plus the channel names once (u32 indexes: a frame may name a channel per sample).
 */
export interface FrameColumns {
  channels: string[];
  t: Float64Array;
  v: Float64Array;
  /** Index into `channels` of each sample. */
  ch: Uint32Array;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeFrameColumns(samples: readonly Sample[]): Uint8Array {
  const n = samples.length;
  const index = new Map<string, number>();
  const names: Uint8Array[] = [];
  const ch = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const name = (samples[i] as Sample).ch;
    let k = index.get(name);
    if (k === undefined) {
      k = names.length;
      index.set(name, k);
      names.push(encoder.encode(name));
    }
    ch[i] = k;
  }
  let head = 8;
  for (const name of names) head += 2 + name.length;
  head = Math.ceil(head / 8) * 8;
  const out = new Uint8Array(head + 20 * n);
  const view = new DataView(out.buffer);
  view.setUint32(0, n, true);
  view.setUint32(4, names.length, true);
  let at = 8;
  for (const name of names) {
    view.setUint16(at, name.length, true);
    out.set(name, at + 2);
    at += 2 + name.length;
  }
  for (let i = 0; i < n; i++) {
    const s = samples[i] as Sample;
    view.setFloat64(head + 8 * i, s.t, true);
    view.setFloat64(head + 8 * (n + i), s.v, true);
    view.setUint32(head + 16 * n + 4 * i, ch[i] as number, true);
  }
  return out;
}

/** Reads what encodeFrameColumns wrote; throws RangeError when the bytes are not such a form. */
export function decodeFrameColumns(bytes: Uint8Array): FrameColumns {
  const { columns, end } = readBlock(bytes, 0);
  if (end !== bytes.byteLength) {
    throw new RangeError(
      `frame columns: ${bytes.byteLength} bytes, ${end} expected for ${columns.t.length} samples`,
    );
  }
  return columns;
}

/** Reads frames' forms written one after the other (a buffer row's `cols`), one per frame. */
export function decodeFrameColumnBlocks(bytes: Uint8Array): FrameColumns[] {
  const blocks: FrameColumns[] = [];
  for (let at = 0; at < bytes.byteLength; ) {
    const { columns, end } = readBlock(bytes, at);
    blocks.push(columns);
    at = end;
  }
  return blocks;
}

function readBlock(bytes: Uint8Array, start: number): { columns: FrameColumns; end: number } {
  if (bytes.byteLength - start < 8)
    throw new RangeError(`frame columns: ${bytes.byteLength - start} bytes left, no header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset + start, bytes.byteLength - start);
  const n = view.getUint32(0, true);
  const count = view.getUint32(4, true);
  const channels = new Array<string>(count);
  let at = 8;
  for (let k = 0; k < count; k++) {
    const length = view.getUint16(at, true);
    channels[k] = decoder.decode(bytes.subarray(start + at + 2, start + at + 2 + length));
    at += 2 + length;
  }
  const head = Math.ceil(at / 8) * 8;
  if (view.byteLength < head + 20 * n) {
    throw new RangeError(
      `frame columns: ${view.byteLength} bytes, ${head + 20 * n} expected for ${n} samples`,
    );
  }
  const t = new Float64Array(n);
  const v = new Float64Array(n);
  const ch = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    t[i] = view.getFloat64(head + 8 * i, true);
    v[i] = view.getFloat64(head + 8 * (n + i), true);
    const k = view.getUint32(head + 16 * n + 4 * i, true);
    if (k >= count) throw new RangeError(`frame columns: sample ${i} names channel ${k} of ${count}`);
    ch[i] = k;
  }
  return { columns: { channels, t, v, ch }, end: start + head + 20 * n };
}

/** The same form from samples already in memory (a buffered row of a release before the columns). */
export function columnsOf(samples: readonly Sample[]): FrameColumns {
  return decodeFrameColumns(encodeFrameColumns(samples));
}

/** Samples `from` to `to` of a frame in memory as the D1 writer's input (the bench and tests build it so). */
export function frameSlice(
  frame: Pick<FrameSlice, "relayId" | "sessionId" | "seq">,
  samples: readonly Sample[],
  from = 0,
  to = samples.length,
): FrameSlice {
  const { channels, t, v, ch } = columnsOf(samples);
  return {
    ...frame,
    firstIdx: from,
    channels,
    t: t.subarray(from, to),
    v: v.subarray(from, to),
    ch: ch.subarray(from, to),
  };
}
