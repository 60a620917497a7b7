import { ByteReader, ByteWriter } from "./byte-io";
import { ChunkDecodeError } from "./chunk-decode-error";
import { type ChunkSample, invalidChunkSamples, MAX_CHUNK_SAMPLES } from "./chunk-sample";
import { crc32 } from "./crc32";
import { deflateRaw, inflateRawExact } from "./deflate-raw";
import { readKeyColumn, writeKeyColumn } from "./key-column";
import { readTimeColumn, writeTimeColumn } from "./time-column";
import { readValueColumn, writeValueColumn } from "./value-column";

// The chunk blob of Storage v2, byte by byte in docs/storage-format.md: a small uncompressed header (version,
// sample count, body length, compressed length, CRC-32 of the body) then the raw-deflated body of three
// columns: seq/idx runs, t, v. The header lets a decoder refuse a corrupt blob before inflating anything and
// bound what it allocates; the CRC catches corruption that still inflates to the announced length.

export { ChunkDecodeError } from "./chunk-decode-error";
export { type ChunkSample, MAX_CHUNK_SAMPLES } from "./chunk-sample";
export { type ChunkStats, chunkStats } from "./chunk-stats";

export const CHUNK_FORMAT_VERSION = 1;

/** Above the worst case (a run per sample: 13 bytes, 8-byte t and v varints, ~16 fixed): larger is corrupt. */
const MAX_BODY_BYTES_PER_SAMPLE = 40;
const MAX_BODY_BYTES_FIXED = 64;

/** Encodes samples in chunk order ((seq, idx) strictly ascending); throws RangeError naming a bad sample. */
export async function encodeChunk(samples: readonly ChunkSample[]): Promise<Uint8Array> {
  const problem = invalidChunkSamples(samples);
  if (problem) throw new RangeError(`encodeChunk: ${problem}`);
  const n = samples.length;
  const seqs = new Array<number>(n);
  const idxs = new Array<number>(n);
  const ts = new Array<number>(n);
  const vs = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const s = samples[i] as ChunkSample;
    seqs[i] = s.seq;
    idxs[i] = s.idx;
    ts[i] = s.t;
    vs[i] = s.v;
  }
  const keysAndTimes = new ByteWriter(4 * n + 64);
  writeKeyColumn(keysAndTimes, seqs, idxs);
  writeTimeColumn(keysAndTimes, ts);
  const prefix = keysAndTimes.finish();

  const valueColumn = writeValueColumn(vs);
  const body = new Uint8Array(prefix.length + valueColumn.length);
  body.set(prefix);
  body.set(valueColumn, prefix.length);
  const compressed = await deflateRaw(body);

  const out = new ByteWriter(compressed.length + 24);
  out.u8(CHUNK_FORMAT_VERSION);
  out.uvarint(n);
  out.uvarint(body.length);
  out.uvarint(compressed.length);
  out.u32le(crc32(body));
  out.bytes(compressed);
  return out.finish();
}

/** Decodes a blob of encodeChunk; anything but a well-formed chunk throws ChunkDecodeError saying what is wrong. */
export async function decodeChunk(bytes: Uint8Array): Promise<ChunkSample[]> {
  if (!(bytes instanceof Uint8Array)) throw new ChunkDecodeError("chunk blob is not a byte array");
  const header = new ByteReader(bytes);
  const version = header.u8("header: version");
  if (version !== CHUNK_FORMAT_VERSION) {
    throw new ChunkDecodeError(
      `unknown chunk format version ${version} (this decoder reads ${CHUNK_FORMAT_VERSION})`,
    );
  }
  const count = header.uvarint("header: sample count", 1, MAX_CHUNK_SAMPLES);
  const bodyLength = header.uvarint(
    "header: body length",
    1,
    MAX_BODY_BYTES_FIXED + MAX_BODY_BYTES_PER_SAMPLE * count,
  );
  const compressedLength = header.uvarint("header: compressed length", 1, bytes.length);
  const expectedCrc = header.u32le("header: body CRC-32");
  if (header.remaining !== compressedLength) {
    throw new ChunkDecodeError(
      header.remaining < compressedLength
        ? `truncated: the compressed body has ${header.remaining} of ${compressedLength} bytes`
        : `${header.remaining - compressedLength} bytes of trailing garbage after the compressed body`,
    );
  }
  const body = await inflateRawExact(header.bytes(compressedLength, "compressed body"), bodyLength);
  const crc = crc32(body);
  if (crc !== expectedCrc) {
    throw new ChunkDecodeError(
      `body CRC-32 is ${hex(crc)}, the header says ${hex(expectedCrc)}: the chunk is corrupt`,
    );
  }

  const r = new ByteReader(body);
  const { seqs, idxs } = readKeyColumn(r, count);
  const ts = readTimeColumn(r, count);
  const vs = readValueColumn(r, count);
  if (r.remaining !== 0)
    throw new ChunkDecodeError(`${r.remaining} bytes of trailing garbage after the value column`);
  const samples = new Array<ChunkSample>(count);
  for (let i = 0; i < count; i++) {
    samples[i] = { seq: seqs[i] as number, idx: idxs[i] as number, t: ts[i] as number, v: vs[i] as number };
  }
  return samples;
}

const hex = (x: number) => `0x${x.toString(16).padStart(8, "0")}`;
