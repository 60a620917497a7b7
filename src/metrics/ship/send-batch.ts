import type { Env } from "../../env";
import { shardStub } from "../aggregate/shard-stub";
import type { DeltaBatch } from "../wire";

/** Delivers one batch; throws when the shard did not confirm it (the caller keeps it and retries). */
export async function sendBatch(env: Env, shard: number, batch: DeltaBatch): Promise<void> {
  await shardStub(env, shard).apply(batch, shard);
}
