// Entry of the benchmark build (see bench-config.ts): the real Worker, unchanged, plus the two ceiling
// Durable Objects on /bench/ceiling/*, so that ceilings and pipeline run in the same runtime, the same build
// and the same process, measured by the same client. Never deployed: production builds src/index.ts.
import type { Env } from "../../src/env";
import worker from "../../src/index";
import { countStoredSamples, seedMetricSeries } from "./bench-routes";
import { resetStorageSamples, writeStorageSamples } from "./storage-routes";

export { MetricsShard, UserStream } from "../../src/index";
export { ParseAckCeiling } from "./ceilings/parse-ack";
export { SqliteCommitCeiling } from "./ceilings/sqlite-commit";

interface BenchEnv extends Env {
  PARSE_ACK_CEILING: DurableObjectNamespace;
  SQLITE_COMMIT_CEILING: DurableObjectNamespace;
}

/** Relay WebSocket paths of the ceilings; the simulator's --relay-path points at one of them. */
const CEILINGS: Record<string, "PARSE_ACK_CEILING" | "SQLITE_COMMIT_CEILING"> = {
  "/bench/ceiling/parse": "PARSE_ACK_CEILING",
  "/bench/ceiling/sqlite": "SQLITE_COMMIT_CEILING",
};

export default {
  ...worker,
  fetch(request, env, ctx) {
    const url = new URL(request.url);
    const binding = CEILINGS[url.pathname];
    if (binding) {
      const namespace = env[binding];
      return namespace.get(namespace.idFromName(url.searchParams.get("user_id") ?? "bench")).fetch(request);
    }
    if (url.pathname === "/bench/stored-count") return countStoredSamples(env, url);
    if (url.pathname === "/bench/seed-metrics") return seedMetricSeries(env, url);
    if (url.pathname === "/bench/storage") return writeStorageSamples(env, url);
    if (url.pathname === "/bench/storage-reset") return resetStorageSamples(env);
    return worker.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<BenchEnv>;
