/**
 * Order-0 Shannon size in bits of `bytes` (what a Huffman coder spends, roughly, ignoring repeated strings).
 * Chooses between two varint encodings of one column without deflating both: their symbols are short, so
 * deflate's gain is mostly its Huffman stage and this estimate ranks them the same way.
 */
export function entropyBits(bytes: Uint8Array): number {
  const counts = new Uint32Array(256);
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    counts[b] = (counts[b] as number) + 1;
  }
  let bits = 0;
  const n = bytes.length;
  for (let s = 0; s < 256; s++) {
    const c = counts[s] as number;
    if (c > 0) bits -= c * Math.log2(c / n);
  }
  return bits;
}
