import { ChunkDecodeError } from "./chunk-decode-error";

// Varints are LEB128: 7 bits per byte, least significant group first, high bit set on all but the last byte.
// Values reach just under 2^55 (zigzag of a delta-of-delta of timestamps below 2^53, or of a difference of two
// scaled decimals: ±(2^54 - 2)), beyond the 2^53 that a JS number holds exactly and the 2^31 that bitwise
// operators handle: small values take a bitwise path, safe ones arithmetic, and the rare larger ones BigInt.
const TWO_POW_31 = 2 ** 31;
const TWO_POW_52 = 2 ** 52;
/** 9 bytes carry 63 bits: more than any field of the format needs, so a longer varint is corruption. */
const MAX_VARINT_BYTES = 9;

/** A growable byte buffer with the writers the chunk format uses. */
export class ByteWriter {
  private buf: Uint8Array;
  private len = 0;

  constructor(initialCapacity = 1024) {
    this.buf = new Uint8Array(initialCapacity);
  }

  get length(): number {
    return this.len;
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  u8(x: number): void {
    this.reserve(1);
    this.buf[this.len++] = x;
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  u32le(x: number): void {
    this.reserve(4);
    for (let i = 0; i < 4; i++) this.buf[this.len++] = (x >>> (8 * i)) & 0xff;
  }

  /** A non-negative integer up to 2^53 (exact in a JS number). */
  uvarint(x: number): void {
    this.reserve(MAX_VARINT_BYTES);
    if (x < TWO_POW_31) {
      while (x >= 0x80) {
        this.buf[this.len++] = (x & 0x7f) | 0x80;
        x >>>= 7;
      }
    } else {
      while (x >= 0x80) {
        this.buf[this.len++] = (x % 0x80) | 0x80;
        x = Math.floor(x / 0x80);
      }
    }
    this.buf[this.len++] = x;
  }

  private uvarintBig(x: bigint): void {
    this.reserve(MAX_VARINT_BYTES);
    while (x >= 0x80n) {
      this.buf[this.len++] = Number(x & 0x7fn) | 0x80;
      x >>= 7n;
    }
    this.buf[this.len++] = Number(x);
  }

  /** Zigzag (0, -1, 1, -2, … → 0, 1, 2, 3, …) then varint, for a safe integer. */
  svarint(x: number): void {
    if (Math.abs(x) <= TWO_POW_52) this.uvarint(x >= 0 ? 2 * x : -2 * x - 1);
    else this.svarintBig(BigInt(x));
  }

  /** `a - b` as zigzag varint, exactly, for safe integers a and b whose difference may exceed 2^53. */
  svarintDiff(a: number, b: number): void {
    const d = a - b;
    // A rounded difference within ±2^52 is exact: an exact one beyond 2^53 would round to at least 2^53.
    if (Math.abs(d) <= TWO_POW_52) this.uvarint(d >= 0 ? 2 * d : -2 * d - 1);
    else this.svarintBig(BigInt(a) - BigInt(b));
  }

  private svarintBig(x: bigint): void {
    this.uvarintBig(x >= 0n ? 2n * x : -2n * x - 1n);
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** Reads what ByteWriter wrote; every read checks bounds and throws ChunkDecodeError naming the field. */
export class ByteReader {
  pos = 0;
  private readonly buf: Uint8Array;

  constructor(buf: Uint8Array) {
    this.buf = buf;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number, what: string): void {
    if (this.pos + n > this.buf.length) {
      throw new ChunkDecodeError(
        `truncated: ${what} needs ${n} byte(s) at offset ${this.pos} of ${this.buf.length}`,
      );
    }
  }

  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.pos++] as number;
  }

  bytes(n: number, what: string): Uint8Array {
    this.need(n, what);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  u32le(what: string): number {
    this.need(4, what);
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return (
      ((b[p] as number) |
        ((b[p + 1] as number) << 8) |
        ((b[p + 2] as number) << 16) |
        ((b[p + 3] as number) << 24)) >>>
      0
    );
  }

  /** A varint as a number when below 2^53, else as a bigint (only zigzagged differences get that large). */
  private raw(what: string): number | bigint {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      const b = this.u8(what);
      if (i === 7) return this.rawBig(value, b, what);
      value += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (b === 0 && i > 0)
          throw new ChunkDecodeError(`${what}: varint at offset ${this.pos - i - 1} is not minimal`);
        return value;
      }
      scale *= 0x80;
    }
    throw new ChunkDecodeError(`${what}: varint longer than ${MAX_VARINT_BYTES} bytes at offset ${this.pos}`);
  }

  // Bytes 8 and 9 of a varint (bits 49 and up): finished in BigInt so nothing rounds.
  private rawBig(low49: number, b8: number, what: string): number | bigint {
    let value = BigInt(low49) + (BigInt(b8 & 0x7f) << 49n);
    if (b8 >= 0x80) {
      const b9 = this.u8(what);
      if (b9 >= 0x80)
        throw new ChunkDecodeError(
          `${what}: varint longer than ${MAX_VARINT_BYTES} bytes at offset ${this.pos}`,
        );
      if (b9 === 0) throw new ChunkDecodeError(`${what}: varint at offset ${this.pos - 9} is not minimal`);
      value += BigInt(b9) << 56n;
    } else if (b8 === 0) {
      throw new ChunkDecodeError(`${what}: varint at offset ${this.pos - 8} is not minimal`);
    }
    return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  }

  /** An unsigned varint that must lie in [min, max] (max at most 2^53 - 1). */
  uvarint(what: string, min: number, max: number): number {
    const x = this.raw(what);
    if (typeof x !== "number" || x < min || x > max) {
      throw new ChunkDecodeError(`${what} is ${x}, outside ${min}..${max}`);
    }
    return x;
  }

  /** A zigzag varint added to `base`: exact, and the sum must lie in [min, max] (within ±(2^53 - 1)). */
  addSvarint(base: number, what: string, min: number, max: number): number {
    const z = this.raw(what);
    let sum: number;
    if (typeof z === "number") {
      // |delta| < 2^52 here, and a sum whose rounding matters lies beyond ±2^53: the range check rejects it.
      sum = base + (z % 2 === 0 ? z / 2 : -(z + 1) / 2);
    } else {
      const delta = (z & 1n) === 0n ? z >> 1n : -((z + 1n) >> 1n);
      const exact = BigInt(base) + delta;
      sum = exact < BigInt(min) || exact > BigInt(max) ? Number.NaN : Number(exact);
    }
    if (!(sum >= min && sum <= max)) throw new ChunkDecodeError(`${what} is out of range ${min}..${max}`);
    return sum;
  }
}
