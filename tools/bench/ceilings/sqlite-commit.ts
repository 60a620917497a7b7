import { DurableObject } from "cloudflare:workers";
import type { Env } from "../../../src/env";
import { acceptCeilingSocket, ackText } from "./ceiling-socket";

/**
 * Benchmark ceiling: parse, write the whole frame in one SQLite statement, ack. The runtime holds the ack
 * (its output gate) until the write is committed, so the ack means what the real one means: durable. Each
 * message is its own event and its own implicit transaction, i.e. one commit per frame.
 */
export class SqliteCommitCeiling extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS frames (relay_id TEXT NOT NULL, seq INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (relay_id, seq))",
    );
  }

  override fetch(request: Request): Response {
    return acceptCeilingSocket(this.ctx, request);
  }

  override webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): void {
    const frame = JSON.parse(message as string) as { type?: string; relay_id?: string; seq?: number };
    if (frame.type !== "samples") return;
    this.ctx.storage.sql.exec(
      "INSERT OR IGNORE INTO frames (relay_id, seq, body) VALUES (?, ?, ?)",
      String(frame.relay_id),
      Number(frame.seq),
      message as string,
    );
    ws.send(ackText(frame.seq));
  }
}
