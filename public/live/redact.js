// The consumer token travels in the WebSocket URL (browsers cannot set headers there); nothing the page shows
// or logs may carry it.

/** The URL with the value of its `token` parameter replaced. */
export function redactToken(url) {
  const u = new URL(url);
  if (u.searchParams.has("token")) u.searchParams.set("token", "hidden");
  return u.toString();
}
