import { DurableObject } from "cloudflare:workers";
import { type Config, getConfig } from "../src/config";
import type { Env } from "../src/env";
import type { UserGaugeSnapshot } from "../src/metrics/record/instruments";
import { framePrint } from "../src/protocol/frame-print";
import {
  ackFrame,
  type ErrorFrame,
  errorFrame,
  PING_TEXT,
  PONG_TEXT,
  type ReplyFrame,
} from "../src/protocol/frames";
import { TOKEN_EXP_HEADER, USER_HEADER } from "../src/protocol/object-request";
import { type ParsedSamples, parseClientFrame } from "../src/protocol/parse-frame";
import { RowMeter } from "../src/storage/stream-state/row-meter";
import { type ObjectStores, openStores } from "../src/storage/stream-state/stores";
import { Admission } from "../src/stream/admission";
import { AlarmPlan } from "../src/stream/alarm-plan";
import { FrameCommitter } from "../src/stream/commit";
import { CommitQueue, type Reply } from "../src/stream/commit-queue";
import { D1Flusher } from "../src/stream/d1-flusher";
import { FanOut } from "../src/stream/fan-out";
import { endExpiredSessions, markUncarriedIdle } from "../src/stream/session-idle";
import { type SocketRole, Sockets } from "../src/stream/sockets";
import { StreamMetrics } from "../src/stream/stream-metrics";
import { jittered } from "../src/util/jitter";

/**
 * One per user: the user's relay and consumer sockets, its durable sample buffer, the relays' acked seqs and
 * the sessions, all in the object's SQLite storage; the alarm flushes to D1. This class only wires the parts
 * under src/stream/ together; docs/architecture.md follows a frame through them.
 *
 * A frame is validated and admitted (dedup, capacity) at once, then queued; the queue hands every waiting frame
 * to src/stream/commit.ts, which makes them durable in ONE transaction, then acks and fans out.
 */
export class UserStream extends DurableObject<Env> {
  readonly #config: Config;
  #stores: ObjectStores;
  /** Rows the object's SQLite writes (billed like D1 rows), counted per commit and per flush. */
  readonly #rows: RowMeter;
  readonly #sockets: Sockets;
  readonly #alarm: AlarmPlan;
  readonly #metrics: StreamMetrics;
  readonly #fanOut: FanOut;
  readonly #admission: Admission;
  readonly #queue: CommitQueue;
  readonly #flusher: D1Flusher;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#config = getConfig(env);
    this.#rows = new RowMeter(ctx.storage.sql);
    this.#stores = openStores(this.#rows.sql);
    // Exact-text pings are answered by the runtime without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING_TEXT, PONG_TEXT));
    this.#sockets = new Sockets(ctx);
    this.#alarm = new AlarmPlan(ctx.storage);
    const userId = ctx.id.name ?? this.#stores.meta.userId ?? "unknown";
    this.#metrics = new StreamMetrics(
      env,
      this.#config,
      userId,
      () => this.#gauges(),
      ctx.storage,
      (at) => this.#alarm.ensure(at),
    );
    this.#fanOut = new FanOut(ctx, this.#sockets, this.#metrics);
    this.#flusher = new D1Flusher({
      db: env.DB,
      config: this.#config,
      storage: ctx.storage,
      stores: () => this.#stores,
      metrics: this.#metrics,
      rows: this.#rows,
      alarm: this.#alarm,
      userId: () => this.#stores.meta.userId ?? ctx.id.name,
    });
    this.#admission = new Admission(
      this.#config,
      () => this.#stores.acked,
      () => this.#stores.buffer.size,
      {
        dueInMs: () => this.#flusher.dueInMs(this.#admission.waiting),
        msPerSample: () => this.#flusher.pace.msPerSample(),
      },
    );
    const committer = new FrameCommitter({
      storage: ctx.storage,
      stores: () => this.#stores,
      reopenStores: () => {
        this.#stores = openStores(this.#rows.sql);
      },
      rows: this.#rows,
      sockets: this.#sockets,
      fanOut: this.#fanOut,
      metrics: this.#metrics,
      committed: () => this.#flusher.afterCommit(),
    });
    this.#queue = new CommitQueue((ops) => {
      this.#admission.drained();
      committer.commit(ops);
    });
    ctx.blockConcurrencyWhile(() => this.#alarm.load());
  }

  // ---- connections -------------------------------------------------------------------------------------

  /** WebSocket upgrades forwarded by the Worker after auth: `/relay` or `/consume?since=MS`. */
  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const role: SocketRole = url.pathname === "/relay" ? "relay" : "consumer";
    this.#rememberUser(request.headers.get(USER_HEADER));
    const exp = Number(request.headers.get(TOKEN_EXP_HEADER) ?? 0);
    const { client, server } = this.#sockets.accept(role, exp);
    this.#metrics.socketOpened(role);
    this.#alarm.ensure(exp * 1000);
    const since = url.searchParams.get("since");
    if (role === "consumer" && since !== null)
      this.#fanOut.backlog(server, this.#stores.buffer, Number(since));
    return new Response(null, { status: 101, webSocket: client });
  }

  override webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): void {
    const receivedAt = Date.now();
    const reply: Reply = (frame) => this.#send(ws, frame);
    const state = this.#sockets.state(ws);
    if (state.role === "relay" && typeof message === "string") {
      const early = this.#admission.refuseUnparsed(message, receivedAt);
      if (early) {
        this.#metrics.frameReceived("samples", true);
        this.#refuse("samples", early, reply);
        return;
      }
    }
    const parsed = parseClientFrame(message, this.#config);
    const type = parsed.ok ? parsed.frame.type : parsed.type;
    this.#metrics.frameReceived(type, true);
    const seq = parsed.ok ? parsed.samples?.frame.seq : undefined;
    if (state.role === "consumer") this.#fanOut.heardFrom(ws, receivedAt);
    if (!parsed.ok) {
      this.#refuse(type, parsed.error, reply);
    } else if (parsed.frame.type === "ping") {
      // A ping with other spacing than the auto-response's exact text reaches the object.
      if (this.#sockets.trySend(ws, PONG_TEXT)) this.#metrics.sent("pong");
      this.#metrics.frameProcessed("ping");
    } else if (state.role === "consumer") {
      this.#refuse(type, errorFrame("invalid", "type: a consumer sends only ping", seq), reply);
    } else if (this.#sockets.expired(ws, receivedAt)) {
      this.#metrics.frameRefused(type, "unauthorized");
      this.#fanOut.expire(ws, seq);
    } else if (parsed.samples) {
      this.#carry(ws, parsed.samples.frame.relay_id, parsed.samples.frame.session_id);
      this.#admit(parsed.samples, receivedAt, reply, false);
    } else if (parsed.frame.type === "session_start") {
      this.#carry(ws, parsed.frame.relay_id, parsed.frame.session_id);
      this.#queue.push({ kind: "session_start", frame: parsed.frame, receivedAt });
    } else if (parsed.frame.type === "session_end") {
      this.#queue.push({ kind: "session_end", frame: parsed.frame, receivedAt });
    }
  }

  /** A `samples` frame POSTed over HTTP (parsed by the Worker): answered with the frame a socket would get. */
  async ingest(userId: string, parsed: ParsedSamples): Promise<ReplyFrame> {
    this.#rememberUser(userId);
    this.#metrics.frameReceived("samples", false);
    return new Promise<ReplyFrame>((resolve) => this.#admit(parsed, Date.now(), resolve, true));
  }

  /**
   * Erasure (`DELETE /v1/users/:user_id/data`): drops the buffer, the flush in flight and the sessions. The
   * acked seqs stay, so a relay resending an erased frame is acked as a duplicate and does not bring it back.
   */
  async eraseBuffer(): Promise<{ samples: number; sessions: number }> {
    let erased = { samples: 0, sessions: 0 };
    this.ctx.storage.transactionSync(() => {
      const { buffer, sessions, acked, meta } = this.#stores;
      acked.released([...buffer.frames()], Date.now());
      erased = { samples: buffer.clear(), sessions: sessions.clear() };
      meta.pendingFlush = null;
    });
    return erased;
  }

  override webSocketClose(ws: WebSocket, code: number, reason: string): void {
    const { role } = this.#sockets.state(ws);
    this.#metrics.socketClosed(role);
    this.#sockets.close(ws, code, reason);
    if (role === "relay") this.#relayLeft(ws);
  }

  override webSocketError(ws: WebSocket, error: unknown): void {
    const { role } = this.#sockets.state(ws);
    this.#metrics.socketError(role);
    console.warn("websocket error", error);
    if (role === "relay") this.#relayLeft(ws);
  }

  // ---- frames ------------------------------------------------------------------------------------------

  #admit(parsed: ParsedSamples, receivedAt: number, reply: Reply, viaHttp: boolean): void {
    const print = framePrint(parsed.frame.session_id, parsed.samplesJson);
    const decision = this.#admission.admit(parsed, print, receivedAt);
    if (decision.kind === "refuse") this.#refuse("samples", decision.error, reply);
    else if (decision.kind === "duplicate") {
      this.#queue.push({ kind: "reply", frame: ackFrame(parsed.frame.seq), receivedAt, reply });
    } else this.#queue.push({ kind: "samples", parsed, print, receivedAt, reply, viaHttp });
  }

  /** Answers with an error, after the answers of the frames queued before it (answers stay in order). */
  #refuse(type: string, error: ErrorFrame, reply: Reply): void {
    this.#metrics.frameRefused(type, error.code);
    if (this.#queue.length > 0)
      this.#queue.push({ kind: "reply", frame: error, receivedAt: Date.now(), reply });
    else reply(error);
  }

  #send(ws: WebSocket, frame: ReplyFrame): void {
    if (this.#sockets.trySend(ws, JSON.stringify(frame))) this.#metrics.sent(frame.type);
  }

  /** Remembers what the socket carries; a relay known from before on a new socket is a reconnection. */
  #carry(ws: WebSocket, relayId: string, sessionId: string): void {
    if (this.#sockets.carry(ws, relayId, sessionId) && this.#stores.acked.knows(relayId)) {
      this.#metrics.relayResumed();
    }
  }

  // ---- sessions ----------------------------------------------------------------------------------------

  /** A relay socket left: its sessions that no other relay carries start their SESSION_IDLE_MS countdown. */
  #relayLeft(closed: WebSocket): void {
    const { sessions } = this.#stores;
    const now = Date.now();
    const uncarried = this.#sockets.release(closed);
    for (const id of uncarried) sessions.setIdle(id, now);
    // Their expiry is SESSION_IDLE_MS from now: O(1) per close, not a scan of every session.
    if (uncarried.length > 0) this.#alarm.ensure(now + jittered(this.#config.sessionIdleMs));
  }

  // ---- alarm: D1 flush, session expiry, token expiry, metrics ---------------------------------------------

  override async alarm(): Promise<void> {
    this.#alarm.fired();
    const now = Date.now();
    try {
      this.#expireTokens(now);
      // Sessions whose sockets vanished in a restart (no close event) start their countdown here.
      const { sessions } = this.#stores;
      markUncarriedIdle(sessions, this.#sockets.carriedSessions(), now);
      this.#metrics.sessionsChanged(0, endExpiredSessions(sessions, this.#config.sessionIdleMs, now));
      await this.#flusher.flush();
    } catch (err) {
      console.error("alarm failed", err);
    } finally {
      await this.#metrics.ship();
      this.#planAlarm();
    }
  }

  /** Sockets whose token has expired get `unauthorized` and close 1008 (docs/protocol.md). */
  #expireTokens(now: number): void {
    for (const ws of this.ctx.getWebSockets()) {
      if (ws.readyState === WebSocket.OPEN && this.#sockets.expired(ws, now)) this.#fanOut.expire(ws);
    }
  }

  #planAlarm(): void {
    const now = Date.now();
    const { sessions } = this.#stores;
    this.#alarm.plan([
      this.#flusher.hasWork ? now + this.#flusher.delayMs() : null,
      sessions.nextExpiry(this.#config.sessionIdleMs),
      // Watchdog while sessions are open: notices relays that vanished without a close event.
      sessions.openCount > 0 ? now + jittered(this.#config.sessionIdleMs) : null,
      this.#sockets.nextExpiry(),
      this.#metrics.dueAt(now),
    ]);
  }

  // ---- state -------------------------------------------------------------------------------------------

  /** The object learns its user id at first contact (the Worker sends it with every request). */
  #rememberUser(userId: string | null): void {
    if (userId && this.#stores.meta.userId !== userId) this.#stores.meta.userId = userId;
  }

  #gauges(): UserGaugeSnapshot {
    const { buffer, sessions } = this.#stores;
    return {
      userId: this.#metrics.userId,
      relayConnections: this.#sockets.all("relay").length,
      consumerConnections: this.#sockets.all("consumer").length,
      bufferSize: buffer.size,
      bufferCapacity: this.#config.bufferCapacity,
      activeSessions: sessions.openCount,
      pendingWrites: { samples: buffer.size, sessions: sessions.unsyncedCount },
    };
  }
}
