import { type ByteReader, ByteWriter } from "./byte-io";
import { ChunkDecodeError } from "./chunk-decode-error";
import { MAX_IDX } from "./chunk-sample";

// seq and idx together, as runs of one seq (one frame's samples of this channel). A run whose idx values are
// evenly spaced (0,1,2,… or 0,3,6,… when three channels alternate in a frame) costs four small varints, so a
// chunk of whole frames spends well under a byte per frame here. Layout in docs/storage-format.md.

/** The key column of chunk-ordered (seq, idx) pairs. */
export function writeKeyColumn(w: ByteWriter, seqs: readonly number[], idxs: readonly number[]): void {
  const runs = new ByteWriter(64);
  let runCount = 0;
  let prevSeq = 0;
  for (let start = 0; start < seqs.length; ) {
    const seq = seqs[start] as number;
    let end = start + 1;
    while (end < seqs.length && seqs[end] === seq) end++;
    const first = idxs[start] as number;
    const stride = end - start > 1 ? (idxs[start + 1] as number) - first : 1;
    let regular = true;
    for (let i = start + 1; i < end && regular; i++)
      regular = (idxs[i] as number) - (idxs[i - 1] as number) === stride;
    runs.uvarint(seq - prevSeq); // exact: both are safe integers and seq > prevSeq >= 0
    runs.uvarint(end - start);
    runs.uvarint(first);
    if (regular) {
      runs.uvarint(stride);
    } else {
      runs.uvarint(0);
      for (let i = start + 1; i < end; i++) runs.uvarint((idxs[i] as number) - (idxs[i - 1] as number) - 1);
    }
    runCount++;
    prevSeq = seq;
    start = end;
  }
  w.uvarint(runCount);
  w.bytes(runs.finish());
}

/** Reads `count` (seq, idx) pairs; they come out strictly ascending by construction. */
export function readKeyColumn(r: ByteReader, count: number): { seqs: number[]; idxs: number[] } {
  const seqs: number[] = [];
  const idxs: number[] = [];
  const runCount = r.uvarint("key column: run count", 1, count);
  let seq = 0;
  for (let run = 0; run < runCount; run++) {
    const at = `key column run ${run}`;
    seq += r.uvarint(`${at}: seq step`, 1, Number.MAX_SAFE_INTEGER - seq);
    const length = r.uvarint(`${at}: length`, 1, count - seqs.length);
    let idx = r.uvarint(`${at}: first idx`, 0, MAX_IDX);
    const stride = r.uvarint(`${at}: idx stride`, 0, MAX_IDX);
    if (stride > 0 && idx + (length - 1) * stride > MAX_IDX) {
      throw new ChunkDecodeError(`${at}: idx runs past ${MAX_IDX}`);
    }
    for (let k = 0; k < length; k++) {
      if (k > 0)
        idx = stride > 0 ? idx + stride : idx + 1 + r.uvarint(`${at}: idx gap`, 0, MAX_IDX - idx - 1);
      seqs.push(seq);
      idxs.push(idx);
    }
  }
  if (seqs.length !== count)
    throw new ChunkDecodeError(`key column holds ${seqs.length} samples, the header says ${count}`);
  return { seqs, idxs };
}
