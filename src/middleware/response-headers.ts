import { createMiddleware } from "hono/factory";

/** Answers are JSON or metrics text about live data: never sniffed as another type, never cached. */
const HEADERS = { "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store" } as const;

/**
 * Adds HEADERS to every response. A WebSocket upgrade (101) is left as the Durable Object made it: it carries no
 * content, and its headers are immutable in workerd. Other immutable responses are copied first.
 */
export function responseHeaders() {
  return createMiddleware(async (c, next) => {
    await next();
    if (c.res.status === 101) return;
    try {
      for (const [name, value] of Object.entries(HEADERS)) c.res.headers.set(name, value);
    } catch {
      c.res = new Response(c.res.body, c.res);
      for (const [name, value] of Object.entries(HEADERS)) c.res.headers.set(name, value);
    }
  });
}
