// The bench's peer: what a team would write by hand instead of this product, so every throughput cell shows the
// product against it. A plain Node.js server: `ws` for the relay WebSocket (the token checked at connect, as the
// Worker does), SQLite from node:sqlite in WAL mode with synchronous=FULL, one transaction per frame writing a
// row per sample, then the ack. Only the protocol subset the bench drives: samples (acked when committed;
// a resent seq is acked again and not stored twice), ping; everything else is ignored.
//
//   node tools/bench/peer/node-peer.ts --port P --db FILE --secret S     (GET /health answers once it listens)
import { createServer } from "node:http";
import { DatabaseSync } from "node:sqlite";
import { parseArgs } from "node:util";
import { jwtVerify } from "jose";
import { WebSocketServer } from "ws";

const { values } = parseArgs({
  options: { port: { type: "string" }, db: { type: "string" }, secret: { type: "string" } },
});
const key = new TextEncoder().encode(values.secret ?? "");
const db = new DatabaseSync(values.db ?? ":memory:");
db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
  CREATE TABLE IF NOT EXISTS samples (user_id TEXT NOT NULL, relay_id TEXT NOT NULL, seq INTEGER NOT NULL,
    idx INTEGER NOT NULL, session_id TEXT NOT NULL, t INTEGER NOT NULL, ch TEXT NOT NULL, v REAL NOT NULL,
    PRIMARY KEY (user_id, relay_id, seq, idx)) WITHOUT ROWID`);
const insert = db.prepare(
  "INSERT OR IGNORE INTO samples (user_id, relay_id, seq, idx, session_id, t, ch, v) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
);

interface Frame {
  type?: string;
  relay_id?: string;
  session_id?: string;
  seq?: number;
  samples?: { t: number; ch: string; v: number }[];
}

function store(userId: string, frame: Frame): boolean {
  const { relay_id: relay, session_id: session, seq, samples } = frame;
  if (typeof relay !== "string" || typeof session !== "string" || !Number.isSafeInteger(seq)) return false;
  if (!Array.isArray(samples) || samples.length === 0) return false;
  for (const s of samples) {
    if (typeof s?.t !== "number" || typeof s.ch !== "string" || !Number.isFinite(s.v)) return false;
  }
  db.exec("BEGIN");
  try {
    for (const [idx, s] of samples.entries())
      insert.run(userId, relay, seq as number, idx, session, s.t, s.ch, s.v);
    db.exec("COMMIT");
  } catch (err) {
    db.exec("ROLLBACK");
    throw err;
  }
  return true;
}

// A plain GET of the socket path answers 426, as the Worker does (the simulator probes with one).
const http = createServer((req, res) => {
  const path = new URL(req.url ?? "/", "http://peer").pathname;
  res.writeHead(path === "/health" ? 200 : path === "/v1/relay" ? 426 : 404).end();
});
const sockets = new WebSocketServer({ noServer: true });
http.on("upgrade", async (req, socket, head) => {
  const url = new URL(req.url ?? "/", "http://peer");
  const userId = url.searchParams.get("user_id") ?? "";
  try {
    const { payload } = await jwtVerify(url.searchParams.get("token") ?? "", key, { algorithms: ["HS256"] });
    if (payload.sub !== userId || payload.role !== "relay") throw new Error("wrong user or role");
  } catch {
    socket.end("HTTP/1.1 401 Unauthorized\r\n\r\n");
    return;
  }
  sockets.handleUpgrade(req, socket, head, (ws) => {
    ws.on("message", (data) => {
      let frame: Frame;
      try {
        frame = JSON.parse(String(data)) as Frame;
      } catch {
        ws.send('{"type":"error","code":"invalid","message":"not JSON"}');
        return;
      }
      if (frame.type === "ping") ws.send('{"type":"pong"}');
      if (frame.type !== "samples") return;
      if (store(userId, frame)) ws.send(`{"type":"ack","seq":${frame.seq}}`);
      else ws.send(`{"type":"error","code":"invalid","message":"bad frame","seq":${Number(frame.seq) || 0}}`);
    });
  });
});
http.listen(Number(values.port), "127.0.0.1");
