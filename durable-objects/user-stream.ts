import { DurableObject } from "cloudflare:workers";
import type { Env } from "../src/env";

/** One per user: the user's relay and consumer sockets, durable sample buffer and sessions. */
export class UserStream extends DurableObject<Env> {}
