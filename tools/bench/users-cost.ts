import type { CellResult } from "./cells.ts";

/**
 * What a user count costs the server, split in two by running the same rate twice on fresh users, once longer:
 * the server CPU the longer cell adds per extra sample is the cost of a sample; what is left of the shorter
 * cell is the cost of a user, paid once (its connect, its object and tables, its first commits and metrics, its
 * last flush). A single short cell would charge that one-time cost to the few samples each user sends in it.
 */
export interface UsersCost {
  users: number;
  short: CellResult;
  long: CellResult;
  /** Server CPU per extra sample of the longer cell, µs (the D1 flushes included). */
  usPerSample: number;
  /** Server CPU per user paid once, ms. */
  msPerUser: number;
}

export function fitUsersCost(short: CellResult, long: CellResult): UsersCost {
  const extraSamples = long.samplesAcked - short.samplesAcked;
  if (short.users !== long.users || extraSamples <= 0) {
    throw new Error(
      `cannot split the cost of ${long.users} users: the longer cell must have the same users and more samples ` +
        `(${short.samplesAcked} then ${long.samplesAcked})`,
    );
  }
  const perSampleS = (long.serverCpuS - short.serverCpuS) / extraSamples;
  const oneTimeS = short.serverCpuS - perSampleS * short.samplesAcked;
  return {
    users: long.users,
    short,
    long,
    usPerSample: round(perSampleS * 1e6),
    msPerUser: round((oneTimeS / long.users) * 1e3),
  };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
