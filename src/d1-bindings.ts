/**
 * The D1 bindings that hold users: `DB`, or `DB_` and capitals, digits or underscores (README, "Several D1
 * databases"). Apart, with no imports, so that the configuration, the storage and tools/migrate-d1.ts (under
 * plain Node) read the same rule.
 */
export function isUserDatabaseBinding(name: string): boolean {
  return /^DB(_[A-Z0-9_]+)?$/.test(name);
}

/** A D1 database binding (anything else under a user database's name is not one). */
export function isD1Binding(value: unknown): value is D1Database {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as D1Database).prepare === "function" &&
    typeof (value as D1Database).batch === "function"
  );
}
