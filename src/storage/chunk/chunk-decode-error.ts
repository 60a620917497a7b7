/** A stored chunk that cannot be decoded: the message names what is wrong (and where, when that helps). */
export class ChunkDecodeError extends Error {
  override readonly name = "ChunkDecodeError";
}
