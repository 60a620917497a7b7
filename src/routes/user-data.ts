import { type Context, Hono } from "hono";
import type { Env } from "../env";
import { type AccessEnv, requireAccess } from "../middleware/access";
import { findUserDatabase } from "../storage/d1/user-databases";
import { eraseUserStorage } from "../storage/tiers/erase-user";

/**
 * `DELETE /v1/users/:user_id/data` (admin token of that user): erases the user's samples and sessions from every
 * tier and the user object's buffer, and answers what it deleted (docs/protocol.md, "Erasing a user's data").
 * Storage is erased before and after the buffer, so a flush that was writing while the buffer was cleared is
 * erased too.
 */
export const userData = new Hono<{ Bindings: Env }>().delete(
  "/v1/users/:user_id/data",
  requireAccess("admin", "param"),
  async (c: Context<AccessEnv>) => {
    const { userId } = c.var.access;
    const first = await eraseUserStorage(await findUserDatabase(c.env, userId), c.env.COLD, userId);
    const buffer = await c.env.USER_STREAM.getByName(userId).eraseBuffer();
    // Looked up again: a flush in flight during the first pass may have placed a new user.
    const second = await eraseUserStorage(await findUserDatabase(c.env, userId), c.env.COLD, userId);
    const deleted = Object.fromEntries(
      Object.entries(first).map(([k, v]) => [k, v + second[k as keyof typeof second]]),
    ) as typeof first;
    return c.json({
      user_id: userId,
      deleted: { ...deleted, buffered_samples: buffer.samples, sessions: deleted.sessions + buffer.sessions },
    });
  },
);
