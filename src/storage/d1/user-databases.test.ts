import { applyD1Migrations, createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { putWarmChunks } from "../../../test/support/tiers";
import { flushAll, objectRows } from "../../../test/support/user-object";
import { BASE, postFrame, samplesFrame, tokenFor } from "../../../test/support/ws-client";
import { app } from "../../app";
import { findUserDatabase, pickDatabase, placeUser, userDatabases } from "./user-databases";

/** The Worker's env with the test's second database bound as a user database. */
const twoDatabases = () => ({ ...env, DB_2: env.TEST_DB_2 });

const directoryRow = (userId: string) =>
  env.DB.prepare("SELECT binding FROM user_databases WHERE user_id = ?").bind(userId).first("binding");

async function get(path: string, userId: string, role: "consumer" | "admin", bound: object, method = "GET") {
  const ctx = createExecutionContext();
  const token = await tokenFor(userId, role);
  const res = await app.fetch(
    new Request(`${BASE}${path}`, { method, headers: { Authorization: `Bearer ${token}` } }),
    bound,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

beforeAll(async () => {
  await applyD1Migrations(env.TEST_DB_2, env.TEST_MIGRATIONS);
});

describe("user databases", () => {
  it("are DB and the D1 bindings named DB_<NAME>, DB first", () => {
    const fake = env.TEST_DB_2;
    const names = [
      ...userDatabases({ DB_B: fake, DB: env.DB, DB_A: fake, DBX: fake, DB_C: "not a database" }),
    ];
    expect(names.map(([name]) => name)).toEqual(["DB", "DB_A", "DB_B"]);
    expect(() => userDatabases({ DB_A: fake })).toThrow("the D1 binding DB is missing");
  });

  it("spread new users evenly and stably over the databases", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.integer({ min: 1, max: 8 }), (userId, n) => {
        const names = Array.from({ length: n }, (_, i) => `DB_${i}`);
        expect(pickDatabase(names, userId)).toBe(pickDatabase([...names], userId));
        expect(names).toContain(pickDatabase(names, userId));
      }),
    );
    const counts = new Map<string, number>();
    for (let i = 0; i < 3_000; i++) {
      const name = pickDatabase(["DB", "DB_2", "DB_3"], `user-${i}`);
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    for (const count of counts.values()) expect(count).toBeGreaterThan(850);
  });

  it("place a user once: racing objects agree, and adding a database moves no one", async () => {
    const one = userDatabases(env);
    const two = userDatabases(twoDatabases());
    // Users the hash sends to DB_2 once there are two databases.
    const users = Array.from({ length: 40 }, (_, i) => `placed-${i}`).filter(
      (u) => pickDatabase([...two.keys()], u) === "DB_2",
    );
    expect(users.length).toBeGreaterThan(5);
    const [first, ...others] = users as [string, ...string[]];
    // Two objects of the same user placing it at once, each seeing a different set of databases.
    const raced = await Promise.all([placeUser(one, first), placeUser(two, first)]);
    expect(new Set(raced).size).toBe(1);
    for (const u of others) expect(await placeUser(one, u)).toBe("DB");
    // Added a database: the users placed before stay where they are.
    for (const u of others) expect(await placeUser(two, u)).toBe("DB");
    expect(await directoryRow(others[0] as string)).toBe("DB");
    // A new user after the addition can go to the new database.
    expect(await placeUser(two, "placed-late-9")).toBe(pickDatabase([...two.keys()], "placed-late-9"));
    // NEW_USER_DATABASES: new users go only where it says, even those the hash would send elsewhere.
    const hashedToDb = Array.from({ length: 40 }, (_, i) => `only-new-${i}`).filter(
      (u) => pickDatabase([...two.keys()], u) === "DB",
    );
    for (const u of hashedToDb) expect(await placeUser(two, u, ["DB_2"])).toBe("DB_2");
  });

  it("a user with nothing flushed reads from DB; a placement on an unbound database is named", async () => {
    expect(await findUserDatabase(twoDatabases(), "never-placed")).toBe(env.DB);
    await env.DB.prepare("INSERT INTO user_databases VALUES ('gone-user', 'DB_GONE', 1)").run();
    await expect(findUserDatabase(env, "gone-user")).rejects.toThrow(
      "user gone-user is stored in the D1 database bound as DB_GONE, which this deployment no longer binds",
    );
  });

  it("reads, channels, exports and erasure follow the user to its database", async () => {
    const bound = twoDatabases();
    const user = "lives-in-db2";
    await env.DB.prepare("INSERT INTO user_databases VALUES (?, 'DB_2', 1)").bind(user).run();
    const samples = Array.from({ length: 50 }, (_, i) => ({ seq: 1, idx: i, t: 1_000 + i, v: i }));
    await putWarmChunks(user, [{ relay: "r1", session: "s1", ch: "hr", samples }], env.TEST_DB_2);
    const range = "from=0&to=100000";

    const read = await get(`/v1/users/${user}/samples?${range}`, user, "consumer", bound);
    expect(read.status).toBe(200);
    expect(((await read.json()) as { count: number }).count).toBe(50);
    const channels = await get(`/v1/users/${user}/channels?${range}`, user, "consumer", bound);
    expect(((await channels.json()) as { channels: { ch: string }[] }).channels.map((c) => c.ch)).toEqual([
      "hr",
    ]);
    const csv = await get(`/v1/users/${user}/export?${range}&format=csv`, user, "consumer", bound);
    expect((await csv.text()).trim().split("\n")).toHaveLength(51);
    // Where DB_2 is not bound, the read fails, and says why, rather than answering nothing.
    const unbound = await get(`/v1/users/${user}/samples?${range}`, user, "consumer", env);
    expect(unbound.status).toBe(500);
    expect(await unbound.json()).toMatchObject({
      type: "error",
      code: "config",
      message: expect.stringContaining("DB_2"),
    });

    const erased = await get(`/v1/users/${user}/data`, user, "admin", bound, "DELETE");
    expect(erased.status).toBe(200);
    expect(((await erased.json()) as { deleted: { chunks: number } }).deleted.chunks).toBe(1);
    const left = await env.TEST_DB_2.prepare("SELECT COUNT(*) AS n FROM sample_chunks WHERE user_id = ?")
      .bind(user)
      .first("n");
    expect(left).toBe(0);
  });

  it("the user object records its database at its first flush and keeps it", async () => {
    const user = "object-placed";
    expect((await postFrame(user, samplesFrame("r1", "s1", 1, 5))).status).toBe(200);
    await flushAll(user);
    expect(await directoryRow(user)).toBe("DB");
    expect(await objectRows(user, "SELECT value FROM meta WHERE key = 'database'")).toEqual([
      { value: "DB" },
    ]);
  });

  it("users that had data before the directory existed are recorded in DB by its migration", async () => {
    const db = env.TEST_DB_2;
    const directory = env.TEST_MIGRATIONS.findIndex((m) => m.name.startsWith("0006"));
    expect(directory).toBeGreaterThan(0);
    await db.exec("DROP TABLE user_databases");
    await db.exec("DELETE FROM d1_migrations WHERE name LIKE '0006%'");
    await db.batch([
      db.prepare(
        "INSERT INTO sessions (user_id, session_id, relay_id, started_at) VALUES ('old-a', 's', 'r', 1)",
      ),
      db.prepare(
        "INSERT INTO cold_objects (object_key, user_id, t_min, t_max, bytes, chunks, samples, channels, created_at) VALUES ('k', 'old-b', 1, 2, 3, 4, 5, '[]', 6)",
      ),
    ]);
    await applyD1Migrations(db, env.TEST_MIGRATIONS);
    const { results } = await db
      .prepare("SELECT user_id, binding FROM user_databases ORDER BY user_id")
      .all();
    expect(results).toEqual([
      { user_id: "old-a", binding: "DB" },
      { user_id: "old-b", binding: "DB" },
    ]);
  });
});
