import { ConfigError } from "../../config";
import { isD1Binding, isUserDatabaseBinding } from "../../d1-bindings";

/**
 * Which D1 database holds a user's samples. One database runs one query at a time, so a fleet past its flush
 * rate spreads users over several (BENCHMARKS.md, "Past one D1 database"). Every D1 binding named `DB` or
 * `DB_<NAME>` holds users; `DB` also holds the directory (`user_databases`, migration 0006), where a user is
 * recorded once, before its first flush, and stays: adding a database moves no one. docs/storage-format.md,
 * "Databases", has the rules.
 */

/** The user databases of a deployment, by binding name, `DB` first. */
export type UserDatabases = ReadonlyMap<string, D1Database>;

/** The D1 bindings of `env` that hold users. */
export function userDatabases(env: object): UserDatabases {
  const found = Object.entries(env)
    .filter(([name, value]) => isUserDatabaseBinding(name) && isD1Binding(value))
    .sort(([a], [b]) => (a === "DB" ? -1 : b === "DB" ? 1 : a < b ? -1 : a > b ? 1 : 0));
  if (found[0]?.[0] !== "DB")
    throw new Error("the D1 binding DB is missing (wrangler.toml, [[d1_databases]])");
  return new Map(found as [string, D1Database][]);
}

/** A user's database by its recorded binding name; a name no longer bound is a configuration error, said plainly. */
export function databaseNamed(dbs: UserDatabases, name: string, userId: string): D1Database {
  const db = dbs.get(name);
  if (!db) {
    throw new ConfigError(
      `user ${userId} is stored in the D1 database bound as ${name}, which this deployment no longer binds: bind it again (never remove a database that holds users)`,
    );
  }
  return db;
}

/**
 * Records the user's database if it has none yet and answers its binding name. A new user goes to one of
 * `candidates` (NEW_USER_DATABASES; null: every user database) by a hash of its id; two objects racing for the
 * same user read back the one row that won.
 */
export async function placeUser(
  dbs: UserDatabases,
  userId: string,
  candidates: readonly string[] | null = null,
  now = Date.now(),
): Promise<string> {
  const directory = directoryOf(dbs);
  const [, found] = await directory.batch<{ binding: string }>([
    directory
      .prepare("INSERT OR IGNORE INTO user_databases (user_id, binding, placed_at) VALUES (?, ?, ?)")
      .bind(userId, pickDatabase(candidates ?? [...dbs.keys()], userId), now),
    directory.prepare("SELECT binding FROM user_databases WHERE user_id = ?").bind(userId),
  ]);
  const binding = found?.results[0]?.binding;
  if (!binding) throw new Error(`user ${userId}: the D1 directory did not record a database`);
  return binding;
}

/** Placements never change, so an isolate keeps those it has read (bounded: a full cache starts over). */
const known = new Map<string, string>();
const KNOWN_MAX = 10_000;

/**
 * The database to read or erase a user's samples in. A user with no row has never flushed, so it has nothing in
 * any database: `DB` answers for it (and is not remembered, since its first flush may place it elsewhere).
 */
export async function findUserDatabase(env: object, userId: string): Promise<D1Database> {
  const dbs = userDatabases(env);
  const cached = known.get(userId);
  if (cached) return databaseNamed(dbs, cached, userId);
  const row = await directoryOf(dbs)
    .prepare("SELECT binding FROM user_databases WHERE user_id = ?")
    .bind(userId)
    .first<{ binding: string }>();
  if (!row) return directoryOf(dbs);
  if (known.size >= KNOWN_MAX) known.clear();
  known.set(userId, row.binding);
  return databaseNamed(dbs, row.binding, userId);
}

/** A stable, even spread of new users: FNV-1a of the user id over the binding names in order. */
export function pickDatabase(names: readonly string[], userId: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < userId.length; i++) {
    hash ^= userId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return names[(hash >>> 0) % names.length] as string;
}

function directoryOf(dbs: UserDatabases): D1Database {
  return dbs.get("DB") as D1Database;
}
