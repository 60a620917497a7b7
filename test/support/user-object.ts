import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
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
