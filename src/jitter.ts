/**
 * `ms` stretched by up to `fraction` at random: deadlines that many objects reach together (after a mass
 * disconnect or a deploy) spread out instead of arriving as one wave. A negative fraction shortens instead.
 */
export function jittered(ms: number, fraction = 0.2): number {
  return ms + Math.floor(Math.random() * ms * fraction);
}
