import { type Context, Hono } from "hono";
import type { Env } from "../env";
import { ApiError } from "../http/route-error";

/**
 * `GET /live` and its files under `/live/` (docs/protocol.md): the live view's static files from `public/`, through
 * the ASSETS binding. In a deployment the files under /live/ are served by the assets layer before the Worker
 * (wrangler.toml `[assets]`, with these headers from public/_headers); this route answers the page, and a name
 * that is no file. The page talks only to this origin; the headers hold it to that, and keep it out of frames and
 * referrers.
 */
export const livePage = new Hono<{ Bindings: Env }>()
  .get("/live", (c) => serveAsset(c))
  .get("/live/:file{[A-Za-z0-9_.-]+}", (c) => serveAsset(c));

export const LIVE_PAGE_HEADERS: Record<string, string> = {
  "Content-Security-Policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "Referrer-Policy": "no-referrer",
  "X-Content-Type-Options": "nosniff",
};

async function serveAsset(c: Context<{ Bindings: Env }>): Promise<Response> {
  const asset = await c.env.ASSETS.fetch(c.req.raw);
  const redirected = asset.status >= 300 && asset.status < 400 && asset.status !== 304;
  if (asset.status === 404 || redirected) {
    // Only exact file names are served: no directory listings, no redirects to other spellings.
    throw new ApiError(404, "not_found", `No file ${c.req.path} in the live view`);
  }
  const response = new Response(asset.body, asset);
  for (const [name, value] of Object.entries(LIVE_PAGE_HEADERS)) response.headers.set(name, value);
  return response;
}
