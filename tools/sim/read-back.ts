import type { StoredSample } from "./loss-check.ts";

/** Rows per `GET /v1/users/:user_id/samples` page: the route's maximum. */
const PAGE_LIMIT = 10_000;
/** Pages per user at most: the loss check's own bound (HARD_LIMITS.lossCheckSamples / PAGE_LIMIT). */
const MAX_PAGES = 2_000;

interface StoredRow extends StoredSample {
  t: unknown;
}

/**
 * Reads every stored sample of a user through `GET /v1/users/:user_id/samples` (SPEC §2), oldest first,
 * page by page on `from` while `has_more` says the limit cut the answer. `from` is inclusive, so a page starts
 * again at the last `t` of the previous page and skips the rows of that `t` it already returned (rows of equal
 * `t` come in primary-key order, so the order is stable).
 */
export async function readStoredSamples(
  baseUrl: string,
  userId: string,
  token: string,
): Promise<StoredSample[]> {
  const rows: StoredSample[] = [];
  let from = 0;
  let seenAtFrom = 0;
  for (let page = 0; page < MAX_PAGES; page++) {
    const url = new URL(`/v1/users/${encodeURIComponent(userId)}/samples`, baseUrl);
    url.searchParams.set("from", String(from));
    url.searchParams.set("limit", String(PAGE_LIMIT));
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) {
      throw new Error(`GET ${url.pathname} answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
    }
    const body = (await res.json()) as { samples?: unknown; has_more?: unknown };
    if (!Array.isArray(body.samples)) throw new Error("stored samples response has no samples array");
    const batch = body.samples as StoredRow[];
    const fresh = batch.slice(seenAtFrom);
    rows.push(...fresh);
    if (body.has_more !== true) return rows;
    const lastT = batch[batch.length - 1]?.t;
    if (typeof lastT !== "number") throw new Error("stored samples carry no numeric t to page on");
    if (lastT === from && fresh.length === 0) {
      throw new Error(`more than ${PAGE_LIMIT} stored samples share t=${lastT}: cannot page past them`);
    }
    seenAtFrom = lastT === from ? seenAtFrom + fresh.length : countTail(batch, lastT);
    from = lastT;
  }
  throw new Error(`more than ${MAX_PAGES * PAGE_LIMIT} stored samples for ${userId}`);
}

function countTail(batch: StoredRow[], t: number): number {
  let n = 0;
  for (let i = batch.length - 1; i >= 0 && batch[i]?.t === t; i--) n++;
  return n;
}
