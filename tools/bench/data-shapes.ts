// Seeded sensor data for the storage benchmarks (Node and the bench Worker import it: no Node APIs here).
import type { Sample } from "../../src/protocol/frames";

/** mulberry32: a small seeded PRNG, so every run measures the same data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

export const T0 = 1_763_700_000_000;

/** A relay's sample stream: `next()` gives its samples in the order a relay sends them. */
export interface StorageShape {
  name: string;
  channels: number;
  stream: () => () => Sample;
}

/** The three shapes of issue 11: what a relay sends, as whole frames (several channels interleaved). */
export const STORAGE_SHAPES: StorageShape[] = [
  {
    // A step counter read once a second (±1 ms): small non-negative increments.
    name: "integer counts (step counter, 1 Hz, 1 channel)",
    channels: 1,
    stream: () => {
      const rand = prng(1);
      let steps = 52_000;
      let i = 0;
      return () => {
        steps += Math.floor(rand() * rand() * 4);
        const t = T0 + 1000 * i++ + Math.floor(rand() * 3) - 1;
        return { t, ch: "steps", v: steps };
      };
    },
  },
  {
    // A 50 Hz accelerometer in m/s², 3 decimals, the three axes of one reading share its t (±1 ms jitter).
    name: "decimal readings (accelerometer, 50 Hz, 3 decimals, 3 channels)",
    channels: 3,
    stream: () => {
      const rand = prng(2);
      const axes = ["ax", "ay", "az"] as const;
      let i = 0;
      let t = T0;
      return () => {
        const step = Math.floor(i / 3);
        const axis = i % 3;
        if (axis === 0) t = T0 + 20 * step + Math.floor(rand() * 3) - 1;
        const base = axis === 2 ? 9.81 * Math.cos(step / 500) : 0.8 * Math.sin(step / (40 + 15 * axis));
        const ms2 = base + 0.3 * Math.sin(step / 25) + 0.02 * gaussian(rand);
        i++;
        return { t, ch: axes[axis] as string, v: Math.round(ms2 * 1000) / 1000 };
      };
    },
  },
  {
    // Full-precision noisy doubles at 10 Hz: no codec gets these much below 8 bytes.
    name: "noisy full-precision doubles (10 Hz, 1 channel)",
    channels: 1,
    stream: () => {
      const rand = prng(3);
      let i = 0;
      return () => ({ t: T0 + 100 * i++, ch: "temp", v: 20 + 5 * gaussian(rand) });
    },
  },
];
