import { expect } from "vitest";
import { ByteReader, ByteWriter } from "../../src/storage/chunk/byte-io";
import { ChunkDecodeError } from "../../src/storage/chunk/chunk-decode-error";

/** Bytes made by `write` that `read` must refuse with a ChunkDecodeError whose message matches. */
export function expectRefused(
  write: (w: ByteWriter) => void,
  read: (r: ByteReader) => unknown,
  message: RegExp,
): void {
  const w = new ByteWriter(8);
  write(w);
  const bytes = w.finish();
  expect(() => read(new ByteReader(bytes))).toThrow(ChunkDecodeError);
  expect(() => read(new ByteReader(bytes))).toThrow(message);
}
