import { readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { parse, stringify } from "yaml";

/**
 * Time-compressed copies of the shipped rule files for end-to-end runs: every `for:` and every PromQL range or
 * subquery window is divided by `factor` (60: minutes become seconds), nothing else changes, so the expressions
 * under test are the shipped ones. Writes the copies into `dir` and returns their paths.
 */
export function writeFastRules(paths: string[], dir: string, factor = 60): string[] {
  return paths.map((path) => {
    const file = parse(readFileSync(path, "utf8")) as { groups: { rules: Record<string, unknown>[] }[] };
    for (const group of file.groups) {
      for (const rule of group.rules) {
        rule.expr = compressWindows(String(rule.expr), factor);
        if (typeof rule.for === "string") rule.for = compressDuration(rule.for, factor);
      }
    }
    const out = join(dir, basename(path));
    writeFileSync(out, stringify(file));
    return out;
  });
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** "5m" / 60 -> "5s"; never below 1s. Only single-unit durations are used in the rule files. */
export function compressDuration(duration: string, factor: number): string {
  const match = /^(\d+)([smhd])$/.exec(duration);
  if (!match) throw new Error(`unsupported duration ${JSON.stringify(duration)} in a rule file`);
  const seconds = Number(match[1]) * (UNIT_SECONDS[match[2] as string] as number);
  return `${Math.max(1, Math.round(seconds / factor))}s`;
}

/** Rewrites `[5m]` and `[10m:1m]` windows in a PromQL expression. */
export function compressWindows(expr: string, factor: number): string {
  return expr.replace(
    /\[(\d+[smhd])(?::(\d+[smhd]))?\]/g,
    (_all, range: string, step: string | undefined) =>
      `[${compressDuration(range, factor)}${step ? `:${compressDuration(step, factor)}` : ""}]`,
  );
}
