import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { expect, vi } from "vitest";
import type { UserStream } from "../../durable-objects/user-stream";
import { BASE, tokenFor } from "./ws-client";

/** The user's Durable Object stub (the same one the Worker routes to). */
export function userStub(userId: string): DurableObjectStub<UserStream> {
  return env.USER_STREAM.getByName(userId);
}

/** Runs the user's alarm now (the D1 flush); true if one was scheduled. */
export function runFlush(userId: string): Promise<boolean> {
  return runDurableObjectAlarm(userStub(userId));
}

/** Runs the user's alarms until its buffer is empty (alarms may also run by themselves meanwhile). */
export async function flushAll(userId: string): Promise<void> {
  await vi.waitFor(
    async () => {
      await runFlush(userId);
      expect(await objectRows(userId, "SELECT id FROM buffer_commits")).toEqual([]);
    },
    { timeout: 10_000, interval: 50 },
  );
}

/** Rows of a table in the object's own SQLite storage. */
export function objectRows<T = Record<string, SqlStorageValue>>(
  userId: string,
  query: string,
  ...params: SqlStorageValue[]
): Promise<T[]> {
  return runInDurableObject(
    userStub(userId),
    (_instance, state) => state.storage.sql.exec(query, ...params).toArray() as T[],
  );
}

/** GET /v1/users/:id/samples with a consumer token; returns the status and JSON body. */
export async function readSamples(
  userId: string,
  query = "",
): Promise<{ status: number; body: Record<string, unknown> & { samples: Record<string, unknown>[] } }> {
  const token = await tokenFor(userId, "consumer");
  const res = await exports.default.fetch(`${BASE}/v1/users/${userId}/samples${query}`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  return { status: res.status, body: (await res.json()) as never };
}

/** Every stored sample of the user, following `next_cursor` page by page. */
export async function readAllSamples(userId: string, query = ""): Promise<Record<string, unknown>[]> {
  const samples: Record<string, unknown>[] = [];
  let cursor: unknown = null;
  do {
    const page = await readSamples(userId, `?limit=10000${query}${cursor ? `&cursor=${cursor}` : ""}`);
    expect(page.status).toBe(200);
    samples.push(...page.body.samples);
    cursor = page.body.next_cursor;
  } while (cursor);
  return samples;
}
