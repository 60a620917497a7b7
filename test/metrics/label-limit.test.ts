import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { shardStub } from "../../src/metrics/aggregate/shard-stub";
import { OTHER_USER, shardForUser } from "../../src/metrics/wire";
import { batch, scrape, series, userGauges } from "./support";

const USERS = 1_000;
const LIMIT = 100; // METRICS_USER_LABEL_LIMIT in wrangler.toml
const SHARDS = 4;

describe("user_id label limit (METRICS_USER_LABEL_LIMIT)", () => {
  it("1,000 users: at most limit+1 user_id values per metric, _other sums the rest, fullest buffers named", async () => {
    const users = Array.from({ length: USERS }, (_, i) => `limit-user-${i}`);
    // User i has i samples in a buffer of 1000 and has received i+1 frames.
    await Promise.all(
      users.map((u, i) =>
        shardStub(env, shardForUser(u, SHARDS)).apply(
          batch(`user:${u}:e`, {
            counters: [
              { name: "messages_received", labels: { message_type: "samples", user_id: u }, value: i + 1 },
            ],
            gauges: userGauges(u, i, 1_000),
          }),
          shardForUser(u, SHARDS),
        ),
      ),
    );
    const text = await scrape();

    const sizes = series(text, "buffer_size");
    expect(sizes.length).toBe(LIMIT + 1);
    const named = sizes.filter((s) => s.labels.user_id !== OTHER_USER).map((s) => s.labels.user_id);
    const fullest = users.slice(USERS - LIMIT);
    expect(new Set(named)).toEqual(new Set(fullest));
    const other = sizes.find((s) => s.labels.user_id === OTHER_USER)?.value;
    expect(other).toBe(((USERS - LIMIT - 1) * (USERS - LIMIT)) / 2); // 0 + 1 + … + 899
    expect(series(text, "buffer_capacity").find((s) => s.labels.user_id === OTHER_USER)?.value).toBe(
      (USERS - LIMIT) * 1_000,
    );

    const received = series(text, "messages_received_total");
    expect(received.length).toBeLessThanOrEqual(LIMIT + 1);
    expect(received.filter((s) => s.labels.user_id === OTHER_USER)).toHaveLength(1);
    expect(received.reduce((sum, s) => sum + s.value, 0)).toBe((USERS * (USERS + 1)) / 2);
    // Gauges without user_id sum over every live object.
    expect(series(text, "edge_relay_connections")[0]?.value).toBe(USERS);
    // 1,000 shard RPCs: seconds on a busy 2-core machine, so a bound well above the default 5 s.
  }, 60_000);
});
