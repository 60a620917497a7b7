import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { z } from "zod";

/** One Prometheus rule group, as a rule file holds it and as the Mimir ruler API takes it. */
export interface RuleGroup {
  name: string;
  interval?: string;
  rules: Record<string, unknown>[];
}

const ruleFileSchema = z.object({
  groups: z
    .array(
      z.looseObject({
        name: z.string().min(1),
        interval: z.string().optional(),
        rules: z.array(z.record(z.string(), z.unknown())).min(1),
      }),
    )
    .min(1),
});

/**
 * Reads Prometheus rule files and returns their groups in file order. Throws an error naming the file when a
 * file is not a rule file, and the group when two groups share a name (the ruler keys groups by name, so the
 * second would silently replace the first).
 */
export function readRuleGroups(paths: string[]): RuleGroup[] {
  const groups: RuleGroup[] = [];
  const seen = new Map<string, string>();
  for (const path of paths) {
    const parsed = ruleFileSchema.safeParse(parse(readFileSync(path, "utf8")));
    if (!parsed.success)
      throw new Error(`${path} is not a Prometheus rule file: ${z.prettifyError(parsed.error)}`);
    for (const group of parsed.data.groups) {
      const earlier = seen.get(group.name);
      if (earlier) throw new Error(`rule group "${group.name}" is defined in both ${earlier} and ${path}`);
      seen.set(group.name, path);
      groups.push(group);
    }
  }
  return groups;
}
