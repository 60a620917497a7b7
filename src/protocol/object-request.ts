/**
 * Headers of the upgrade the Worker forwards to a user's Durable Object after auth. Clients cannot reach the
 * object directly: the Worker builds this request itself, so the values are trusted there.
 */
export const USER_HEADER = "X-Zander-User";
export const TOKEN_EXP_HEADER = "X-Zander-Token-Exp";
