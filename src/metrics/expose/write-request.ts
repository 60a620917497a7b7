import type { PromSample } from "./prometheus-samples";

/**
 * Protobuf encoding of a Prometheus remote-write 1.0 `WriteRequest` (prometheus/prompb/remote.proto, types.proto):
 *
 *   message WriteRequest { repeated TimeSeries timeseries = 1; }
 *   message TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2; }
 *   message Label        { string name = 1; string value = 2; }
 *   message Sample       { double value = 1; int64 timestamp = 2; }
 *
 * Four fixed messages do not justify a protobuf runtime plus a code generator (protobufjs' generated code needs
 * eval, which workerd forbids); the e2e test proves this encoder against a real Prometheus receiver.
 */
export function encodeWriteRequest(samples: PromSample[], timestampMs: number): Uint8Array {
  const out = new ProtoWriter();
  const series = new ProtoWriter();
  const label = new ProtoWriter();
  const sample = new ProtoWriter();
  for (const s of samples) {
    series.reset();
    // Remote-write requires labels sorted by name.
    for (const name of Object.keys(s.labels).sort()) {
      label.reset();
      label.string(1, name);
      label.string(2, s.labels[name] as string);
      series.bytes(1, label.finish());
    }
    sample.reset();
    if (s.stale) sample.fixed64(1, STALE_NAN);
    else sample.double(1, s.value);
    sample.varintField(2, timestampMs);
    series.bytes(2, sample.finish());
    out.bytes(1, series.finish());
  }
  return out.finish();
}

const utf8 = new TextEncoder();
/** Prometheus' staleness marker: the NaN with bits 0x7ff0000000000002, little-endian (JS cannot keep NaN bits). */
const STALE_NAN = new Uint8Array([0x02, 0, 0, 0, 0, 0, 0xf0, 0x7f]);

class ProtoWriter {
  private buf = new Uint8Array(256);
  private len = 0;
  private readonly view8 = new DataView(new ArrayBuffer(8));

  reset(): void {
    this.len = 0;
  }

  finish(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }

  string(field: number, value: string): void {
    this.bytes(field, utf8.encode(value));
  }

  bytes(field: number, value: Uint8Array): void {
    this.varint((field << 3) | 2);
    this.varint(value.length);
    this.ensure(value.length);
    this.buf.set(value, this.len);
    this.len += value.length;
  }

  double(field: number, value: number): void {
    this.varint((field << 3) | 1);
    this.view8.setFloat64(0, value, true);
    this.ensure(8);
    this.buf.set(new Uint8Array(this.view8.buffer), this.len);
    this.len += 8;
  }

  fixed64(field: number, bytes: Uint8Array): void {
    this.varint((field << 3) | 1);
    this.ensure(8);
    this.buf.set(bytes, this.len);
    this.len += 8;
  }

  varintField(field: number, value: number): void {
    this.varint(field << 3);
    this.varint(value);
  }

  /** Non-negative integers up to 2^53 (timestamps in ms), without 32-bit bitwise truncation. */
  private varint(value: number): void {
    this.ensure(10);
    let v = value;
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.len++] = v;
  }

  private ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(this.buf.length * 2, this.len + extra));
    grown.set(this.buf.subarray(0, this.len));
    this.buf = grown;
  }
}
