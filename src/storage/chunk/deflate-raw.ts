import { ChunkDecodeError } from "./chunk-decode-error";

// The platform's own deflate (workerd and Node 22 both have CompressionStream): no library, native zlib.
// Input is written straight to the stream's writer (no Blob/Response wrappers: they cost more than the
// compression itself for small chunks in Node). Write errors also surface on the readable side, where they
// are handled; the write promise is only kept from becoming an unhandled rejection.

async function* through(stream: CompressionStream | DecompressionStream, input: Uint8Array) {
  const writer = stream.writable.getWriter();
  writer
    .write(input)
    .then(() => writer.close())
    .catch(() => {});
  const reader = stream.readable.getReader();
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        finished = true;
        return;
      }
      yield value as Uint8Array;
    }
  } finally {
    // A consumer that stops early (too much output, an error) cancels the rest of the (de)compression.
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

/** Raw deflate (RFC 1951, no zlib/gzip wrapper) of `bytes`. */
export async function deflateRaw(bytes: Uint8Array): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let length = 0;
  for await (const part of through(new CompressionStream("deflate-raw"), bytes)) {
    parts.push(part);
    length += part.length;
  }
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * Inflates `bytes` that must expand to exactly `expectedLength` bytes. Reads the output incrementally and
 * stops as soon as it would exceed that length, so a crafted blob (deflate expands up to ~1000:1) cannot make
 * the decoder allocate more than the header announced.
 */
export async function inflateRawExact(bytes: Uint8Array, expectedLength: number): Promise<Uint8Array> {
  const out = new Uint8Array(expectedLength);
  let filled = 0;
  try {
    for await (const part of through(new DecompressionStream("deflate-raw"), bytes)) {
      if (filled + part.length > expectedLength) {
        throw new ChunkDecodeError(
          `compressed body inflates to more than the ${expectedLength} bytes the header says`,
        );
      }
      out.set(part, filled);
      filled += part.length;
    }
  } catch (err) {
    if (err instanceof ChunkDecodeError) throw err;
    throw new ChunkDecodeError(`compressed body is not valid deflate data (${describe(err)})`);
  }
  if (filled !== expectedLength) {
    throw new ChunkDecodeError(
      `compressed body inflates to ${filled} bytes, the header says ${expectedLength}`,
    );
  }
  return out;
}

function describe(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg || (err instanceof Error ? err.name : "unknown error");
}
