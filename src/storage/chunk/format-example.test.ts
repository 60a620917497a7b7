/// <reference types="vite/client" />
import { describe, expect, it } from "vitest";
import storageFormat from "../../../docs/storage-format.md?raw";
import { ByteReader, ByteWriter } from "./byte-io";
import { type ChunkSample, decodeChunk, encodeChunk } from "./chunk-codec";
import { crc32 } from "./crc32";
import { deflateRaw } from "./deflate-raw";
import { readKeyColumn, writeKeyColumn } from "./key-column";
import { readTimeColumn, writeTimeColumn } from "./time-column";
import { readValueColumn, writeValueColumn } from "./value-column";

// The byte example of docs/storage-format.md is a test vector: read from the page itself, so the page and the
// codec cannot drift apart. A decoder written from the page alone must agree with these bytes.

const example = storageFormat.slice(storageFormat.indexOf("### Example"));

/** The hex bytes at the start of each line of the example's code block (the rest of a line is its comment). */
function exampleBody(): Uint8Array {
  const block = /```\n([\s\S]*?)```/.exec(example)?.[1] ?? "";
  const bytes = block.split("\n").flatMap((line) => {
    const hex: number[] = [];
    for (const token of line.trim().split(/\s+/)) {
      if (!/^[0-9a-f]{2}$/.test(token)) break;
      hex.push(Number.parseInt(token, 16));
    }
    return hex;
  });
  return new Uint8Array(bytes);
}

/** Bytes quoted in the prose after the block, e.g. "`01 03 18 1a` (version 1, …)". */
function quotedBytes(before: string): number[] {
  const quoted = new RegExp(`\`([0-9a-f ]+)\` \\(${before}`).exec(example)?.[1] ?? "";
  return quoted.split(" ").map((h) => Number.parseInt(h, 16));
}

const t0 = 1_763_700_000_000;
const samples: ChunkSample[] = [
  { seq: 42, idx: 0, t: t0, v: 72.5 },
  { seq: 42, idx: 1, t: t0 + 20, v: 72.6 },
  { seq: 43, idx: 0, t: t0 + 40, v: 72.4 },
];

describe("docs/storage-format.md example", () => {
  it("has a 24-byte body, a header and a CRC", () => {
    expect(exampleBody()).toHaveLength(24);
    expect(quotedBytes("version 1")).toEqual([0x01, 0x03, 0x18, 0x1a]);
    expect(quotedBytes("CRC-32")).toHaveLength(4);
  });

  it("decodes column by column into the samples it describes", () => {
    const r = new ByteReader(exampleBody());
    const { seqs, idxs } = readKeyColumn(r, 3);
    const ts = readTimeColumn(r, 3);
    const vs = readValueColumn(r, 3);
    expect(r.remaining).toBe(0);
    expect(samples).toEqual(seqs.map((seq, i) => ({ seq, idx: idxs[i], t: ts[i], v: vs[i] })));
  });

  it("is what the column writers produce for those samples, byte for byte", () => {
    const w = new ByteWriter(32);
    writeKeyColumn(
      w,
      samples.map((s) => s.seq),
      samples.map((s) => s.idx),
    );
    writeTimeColumn(
      w,
      samples.map((s) => s.t),
    );
    w.bytes(writeValueColumn(samples.map((s) => s.v)));
    expect([...w.finish()]).toEqual([...exampleBody()]);
  });

  it("has the CRC-32 and header that encodeChunk writes, and decodes as a blob around any deflate of it", async () => {
    const body = exampleBody();
    expect(quotedBytes("CRC-32")).toEqual([0, 8, 16, 24].map((shift) => (crc32(body) >>> shift) & 0xff));
    const blob = await encodeChunk(samples);
    const header = [...quotedBytes("version 1"), ...quotedBytes("CRC-32")];
    expect([...blob.subarray(0, 8)]).toEqual(header);
    expect(blob.length - 8).toBe(0x1a);
    const compressed = await deflateRaw(body);
    const rebuilt = new Uint8Array([
      0x01,
      0x03,
      0x18,
      compressed.length,
      ...quotedBytes("CRC-32"),
      ...compressed,
    ]);
    expect(await decodeChunk(rebuilt)).toEqual(samples);
  });
});
