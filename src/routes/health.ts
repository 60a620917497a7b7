import { Hono } from "hono";
import type { Env } from "../env";

/** `GET /health`: no auth, no storage; what uptime checks and the `up` series rely on. */
export const health = new Hono<{ Bindings: Env }>().get("/health", (c) => c.json({ status: "ok" }));
