/**
 * How the simulator makes every sample recognisable when it is read back from D1, whatever columns the read
 * route returns: the channel `ch` names the relay, and the value `v` encodes (seq, idx) as seq * IDX_RANGE + idx.
 * Both are exact: `v` stays below 2^53 for any seq the hard caps allow.
 */
export const IDX_RANGE = 1_000_000;

export function sampleValue(seq: number, idx: number): number {
  return seq * IDX_RANGE + idx;
}

export interface SampleIdentity {
  channel: string;
  seq: number;
  idx: number;
}

/** The identity of a read-back sample, or null when it is not one the simulator could have sent. */
export function identify(ch: unknown, v: unknown): SampleIdentity | null {
  if (typeof ch !== "string" || typeof v !== "number" || !Number.isSafeInteger(v) || v < IDX_RANGE)
    return null;
  return { channel: ch, seq: Math.floor(v / IDX_RANGE), idx: v % IDX_RANGE };
}
