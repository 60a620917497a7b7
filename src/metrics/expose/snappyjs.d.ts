// snappyjs ships no types. compress() produces the Snappy block format that Prometheus remote-write expects.
declare module "snappyjs" {
  export function compress(input: Uint8Array): Uint8Array;
  export function uncompress(input: Uint8Array, maxLength?: number): Uint8Array;
}
