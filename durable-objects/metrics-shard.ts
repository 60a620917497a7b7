import { DurableObject } from "cloudflare:workers";
import type { Env } from "../src/env";

/** One of METRICS_SHARDS aggregators: persisted cumulative metric state, merged at scrape time. */
export class MetricsShard extends DurableObject<Env> {}
