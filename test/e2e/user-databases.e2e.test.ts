import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localD1Rows } from "../../tools/lib/local-d1.ts";
import { mintToken } from "../../tools/lib/token.ts";
import { startWranglerDev, type WranglerDev } from "../../tools/lib/wrangler-dev.ts";
import { runNpmScript } from "./support/npm-script";
import { waitUntil } from "./support/wait-until";

// Several D1 databases under `wrangler dev` (README, "Several D1 databases"): wrangler.toml with a second user
// database added as an operator adds it, `npm start`'s launcher migrating both, users spread over them by the
// directory (and only where NEW_USER_DATABASES says, after a restart that moves no one), and reads, erasure and
// the tier job's gauges following each user to its database.
const PORT = 18370;
const SECRET = "e2e-databases-secret-0123456789abcdef";
const METRICS_TOKEN = "e2e-databases-metrics-token";
const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const USERS = Array.from({ length: 12 }, (_, i) => `fleet-user-${i}`);

/** The repository's wrangler.toml with a `DB_2` binding added, written where its relative paths still hold. */
function twoDatabaseConfig(): string {
  const dir = join(root, ".tmp", "two-databases");
  mkdirSync(dir, { recursive: true });
  const base = readFileSync(join(root, "wrangler.toml"), "utf8")
    .replace('main = "src/index.ts"', 'main = "../../src/index.ts"')
    .replace('directory = "./public"', 'directory = "../../public"')
    .replaceAll('migrations_dir = "migrations"', 'migrations_dir = "../../migrations"');
  const file = join(dir, "wrangler.toml");
  writeFileSync(
    file,
    `${base}\n[[d1_databases]]\nbinding = "DB_2"\ndatabase_name = "zander-edge-dev-2"\nmigrations_dir = "../../migrations"\n`,
  );
  return file;
}

describe("several D1 databases against wrangler dev", () => {
  let dir: string;
  let config: string;
  let server: WranglerDev | undefined;
  const url = (path: string) => `${server?.url}${path}`;
  const auth = async (userId: string, role: "relay" | "consumer" | "admin") => ({
    Authorization: `Bearer ${await mintToken({ secret: SECRET, userId, role })}`,
  });
  const rows = (binding: string, sql: string) => localD1Rows(join(dir, "state"), sql, { binding, config });

  const startServer = (vars: Record<string, string> = {}) =>
    startWranglerDev({
      port: PORT,
      persistTo: join(dir, "state"),
      args: ["--config", config, "--test-scheduled"],
      vars: { AUTH_SECRET: SECRET, METRICS_TOKEN, FLUSH_INTERVAL_MS: "100", ...vars },
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "zander-databases-e2e-"));
    config = twoDatabaseConfig();
    // The README's command migrates both databases; the launcher's own run then has nothing left to apply.
    const migrated = await runNpmScript("migrate:d1", [
      "--local",
      "--persist-to",
      join(dir, "state"),
      "--config",
      config,
    ]);
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(migrated.stdout).toMatch(/DB_2[\s\S]*0006_user_databases\.sql/);
    server = await startServer();
  });
  afterAll(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** POSTs frame `seq` of 10 samples whose values say (u, seq, i). */
  async function post(userId: string, u: number, seq = 1): Promise<void> {
    const samples = Array.from({ length: 10 }, (_, i) => ({
      t: 1_763_700_000_000 + seq * 100 + i,
      ch: "hr",
      v: u * 100 + seq * 10 + i,
    }));
    const res = await fetch(url(`/v1/users/${userId}/samples`), {
      method: "POST",
      headers: { ...(await auth(userId, "relay")), "Content-Type": "application/json" },
      body: JSON.stringify({ type: "samples", relay_id: "r1", session_id: "s1", seq, samples }),
    });
    expect(res.status).toBe(200);
  }
  async function read(userId: string) {
    const res = await fetch(url(`/v1/users/${userId}/samples?from=0&to=9999999999999`), {
      headers: await auth(userId, "consumer"),
    });
    return (await res.json()) as { count: number; samples: { v: number }[] };
  }
  /** Waits until the read API answers `count` samples for the user (its flush has reached its database). */
  const stored = (userId: string, count: number) =>
    waitUntil(`${count} samples of ${userId} in D1`, async () => {
      const page = await read(userId);
      return page.count === count ? page : undefined;
    });
  const placements = async () =>
    new Map(
      (await rows("DB", "SELECT user_id, binding FROM user_databases")).map((r) => [r.user_id, r.binding]),
    );

  it("spreads users over both databases; each user's samples are read, and erased, where they live", async () => {
    for (const [u, userId] of USERS.entries()) await post(userId, u);
    // Every user's samples come back from its own database once flushed.
    for (const [u, userId] of USERS.entries()) {
      const page = await stored(userId, 10);
      expect(page.samples.map((s) => s.v)).toEqual(Array.from({ length: 10 }, (_, i) => u * 100 + 10 + i));
    }

    // The directory in DB places each user once, over both databases, and each database holds its users' chunks.
    const placed = await rows("DB", "SELECT user_id, binding FROM user_databases ORDER BY user_id");
    expect(placed.map((r) => r.user_id)).toEqual([...USERS].sort());
    const on = (binding: string) =>
      placed.filter((r) => r.binding === binding).map((r) => r.user_id as string);
    expect(on("DB").length).toBeGreaterThan(0);
    expect(on("DB_2").length).toBeGreaterThan(0);
    for (const binding of ["DB", "DB_2"]) {
      const holders = await rows(binding, "SELECT DISTINCT user_id FROM sample_chunks ORDER BY user_id");
      expect(holders.map((r) => r.user_id)).toEqual(on(binding).sort());
    }

    // Erasure reaches the user's database.
    const erased = on("DB_2")[0] as string;
    const res = await fetch(url(`/v1/users/${erased}/data`), {
      method: "DELETE",
      headers: await auth(erased, "admin"),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { deleted: { chunks: number } }).deleted.chunks).toBeGreaterThan(0);
    expect((await read(erased)).count).toBe(0);
    expect(await rows("DB_2", `SELECT user_id FROM sample_chunks WHERE user_id = '${erased}'`)).toEqual([]);
  });

  it("sends new users only where NEW_USER_DATABASES says, and moves no placed user", async () => {
    const before = await placements();
    const placedOnDb = USERS.find((u) => before.get(u) === "DB") as string;
    await server?.stop();
    server = await startServer({ NEW_USER_DATABASES: "DB_2" });
    const newcomers = Array.from({ length: 6 }, (_, i) => `newcomer-${i}`);
    for (const [u, userId] of newcomers.entries()) await post(userId, 50 + u);
    await post(placedOnDb, USERS.indexOf(placedOnDb), 2);
    for (const userId of newcomers) await stored(userId, 10);
    await stored(placedOnDb, 20);
    const after = await placements();
    for (const userId of newcomers) expect(after.get(userId), userId).toBe("DB_2");
    for (const userId of USERS) expect(after.get(userId), userId).toBe(before.get(userId));
    const chunks = await rows("DB", `SELECT SUM(n) AS n FROM sample_chunks WHERE user_id = '${placedOnDb}'`);
    expect(chunks).toEqual([{ n: 20 }]);
  });

  it("runs the tier job on every database and reports each one's size", async () => {
    await fetch(url("/__scheduled?cron=*+*+*+*+*"));
    const text = await waitUntil("d1_database_bytes of both databases on /metrics", async () => {
      const res = await fetch(url("/metrics"), { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } });
      const body = await res.text();
      return /d1_database_bytes\{[^}]*database="DB_2"/.test(body) ? body : undefined;
    });
    const size = (database: string) =>
      Number(
        text.match(new RegExp(`^d1_database_bytes\\{[^}]*database="${database}"[^}]*\\} (\\S+)`, "m"))?.[1],
      );
    expect(size("DB")).toBeGreaterThan(0);
    expect(size("DB_2")).toBeGreaterThan(0);
    const total = Number(text.match(/^storage_bytes\{[^}]*tier="d1"[^}]*\} (\S+)/m)?.[1]);
    expect(total).toBe(size("DB") + size("DB_2"));
  });
});
