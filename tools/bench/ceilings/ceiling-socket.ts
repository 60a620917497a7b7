/** Accepts a hibernatable WebSocket, as the real UserStream does (Hibernation API). */
export function acceptCeilingSocket(ctx: DurableObjectState, request: Request): Response {
  if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    return new Response("expected a WebSocket upgrade", { status: 426 });
  }
  const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
  ctx.acceptWebSocket(server);
  return new Response(null, { status: 101, webSocket: client });
}

export function ackText(seq: unknown): string {
  return `{"type":"ack","seq":${Number(seq)}}`;
}
