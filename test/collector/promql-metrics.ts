/**
 * The metric names a PromQL expression reads: what is left after removing strings, label matchers, grouping
 * clauses, range windows, function names, keywords and numbers. Good enough for the expressions in
 * collector/ (no nested strings with braces), which is all it is used for.
 */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, " ")
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\$\{?\w+\}?/g, " ")
    .replace(/[A-Za-z_][A-Za-z0-9_]*\s*\(/g, "(")
    .replace(/\b(?:and|or|unless|by|without|offset|bool)\b/g, " ")
    .replace(/\b\d+(?:\.\d+)?(?:e[+-]?\d+)?\b/gi, " ");
  return [...new Set(stripped.match(/[A-Za-z_:][A-Za-z0-9_:]*/g) ?? [])];
}
