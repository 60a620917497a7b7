import { isDeepStrictEqual } from "node:util";
import { createPatch } from "diff";
import { stringify } from "yaml";
import type { RuleGroup } from "./rule-groups.ts";

export interface RuleSyncPlan {
  create: RuleGroup[];
  /** Groups that differ, with what the ruler has now. */
  update: { group: RuleGroup; current: RuleGroup }[];
  /** Names of the groups the ruler has in the namespace and the files no longer define. */
  delete: string[];
  unchanged: string[];
}

/**
 * What `mimirtool rules sync` would do to one namespace: create the groups only the files have, update those
 * that differ, delete those only the ruler has. Groups are compared as data, so YAML formatting, key order and
 * fields the ruler writes back empty do not count as differences.
 */
export function planRuleSync(local: RuleGroup[], remote: RuleGroup[]): RuleSyncPlan {
  const remoteByName = new Map(remote.map((g) => [g.name, g]));
  const plan: RuleSyncPlan = { create: [], update: [], delete: [], unchanged: [] };
  for (const group of local) {
    const current = remoteByName.get(group.name);
    if (!current) plan.create.push(group);
    else if (!isDeepStrictEqual(canonical(group), canonical(current))) plan.update.push({ group, current });
    else plan.unchanged.push(group.name);
  }
  const localNames = new Set(local.map((g) => g.name));
  plan.delete = remote.filter((g) => !localNames.has(g.name)).map((g) => g.name);
  return plan;
}

/** The plan as mimirtool prints a diff: one line per group, a YAML diff under each update, then the totals. */
export function describePlan(namespace: string, plan: RuleSyncPlan): string {
  const lines = [
    ...plan.create.map((g) => `+ create group ${g.name} (${g.rules.length} rules)`),
    ...plan.update.map(
      ({ group, current }) =>
        `~ update group ${group.name} (${group.rules.length} rules)\n${yamlDiff(group.name, current, group)}`,
    ),
    ...plan.delete.map((name) => `- delete group ${name}`),
  ];
  lines.push(
    `namespace ${namespace}: ${plan.create.length} to create, ${plan.update.length} to update, ` +
      `${plan.delete.length} to delete, ${plan.unchanged.length} unchanged`,
  );
  return lines.join("\n");
}

/** A unified diff of the group as the ruler has it against the files (the two header lines left out). */
function yamlDiff(name: string, current: RuleGroup, wanted: RuleGroup): string {
  const patch = createPatch(
    name,
    stringify(canonical(current)),
    stringify(canonical(wanted)),
    "ruler",
    "files",
  );
  return patch.split("\n").slice(2).join("\n").trimEnd();
}

/** Drops empty values (the ruler omits them) so that equal groups compare equal. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined || v === null || v === "") continue;
      if (typeof v === "object" && Object.keys(v).length === 0) continue;
      out[k] = canonical(v);
    }
    return out;
  }
  return typeof value === "string" ? value.trimEnd() : value;
}
