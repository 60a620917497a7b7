/**
 * The D1 bindings that hold users: `DB`, or `DB_` and capitals, digits or underscores (README, "Several D1
 * databases"). Apart, with no imports, so that tools/migrate-d1.ts reads the same rule under plain Node.
 */
export function isUserDatabaseBinding(name: string): boolean {
  return /^DB(_[A-Z0-9_]+)?$/.test(name);
}
