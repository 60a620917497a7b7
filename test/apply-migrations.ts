import { applyD1Migrations, env } from "cloudflare:test";

// Every test file starts with the schema from migrations/ applied to its local D1.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
