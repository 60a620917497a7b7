import type { StoredSample } from "./loss-check.ts";

/** Rows per `GET /v1/users/:user_id/samples` page: the route's maximum. */
const PAGE_LIMIT = 10_000;
/** Pages per user at most: the loss check's own bound (HARD_LIMITS.lossCheckSamples / PAGE_LIMIT). */
const MAX_PAGES = 2_000;

/**
 * Reads every stored sample of a user through `GET /v1/users/:user_id/samples` (docs/protocol.md, "Routes"), oldest first,
 * page by page with `next_cursor`, which continues exactly where the previous page ended (ties on t included).
 */
export async function readStoredSamples(
  baseUrl: string,
  userId: string,
  token: string,
): Promise<StoredSample[]> {
  const rows: StoredSample[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < MAX_PAGES; page++) {
    const url = new URL(`/v1/users/${encodeURIComponent(userId)}/samples`, baseUrl);
    url.searchParams.set("limit", String(PAGE_LIMIT));
    if (cursor) url.searchParams.set("cursor", cursor);
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) {
      throw new Error(`GET ${url.pathname} answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
    }
    const body = (await res.json()) as { samples?: unknown; next_cursor?: unknown; errors?: unknown };
    if (!Array.isArray(body.samples)) throw new Error("stored samples response has no samples array");
    if (Array.isArray(body.errors) && body.errors.length > 0) {
      throw new Error(`stored chunks could not be read: ${JSON.stringify(body.errors).slice(0, 300)}`);
    }
    rows.push(...(body.samples as StoredSample[]));
    if (typeof body.next_cursor !== "string") return rows;
    cursor = body.next_cursor;
  }
  throw new Error(`more than ${MAX_PAGES * PAGE_LIMIT} stored samples for ${userId}`);
}
