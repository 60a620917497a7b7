import type { D1Migration } from "cloudflare:test";
import type { Env as WorkerEnv } from "../src/env";

// `env` of cloudflare:test and cloudflare:workers: the Worker's (GlobalProps come from worker-configuration.d.ts),
// and the migrations that test/apply-migrations.ts applies.
declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {
      TEST_MIGRATIONS: D1Migration[];
      /** A second D1 database (vitest.config.ts), bound as a user database by the tests that need two. */
      TEST_DB_2: D1Database;
    }
  }
}
