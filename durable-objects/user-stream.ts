import { DurableObject } from "cloudflare:workers";
import { type Config, getConfig } from "../src/config";
import type { Env } from "../src/env";
import { PING_TEXT, PONG_TEXT, type ReplyFrame } from "../src/protocol/frames";
import { TOKEN_EXP_HEADER, USER_HEADER } from "../src/protocol/object-request";
import type { ParsedSamples } from "../src/protocol/parse-frame";
import { databaseNamed, placeUser, userDatabases } from "../src/storage/d1/user-databases";
import { RowMeter } from "../src/storage/stream-state/row-meter";
import { type ObjectStores, openStores } from "../src/storage/stream-state/stores";
import { Admission } from "../src/stream/admission";
import { AlarmPlan } from "../src/stream/alarm-plan";
import { FrameCommitter } from "../src/stream/commit";
import { CommitQueue } from "../src/stream/commit-queue";
import { D1Flusher } from "../src/stream/d1-flusher";
import { FanOut } from "../src/stream/fan-out";
import { FrameIntake } from "../src/stream/frame-intake";
import { SessionIdle } from "../src/stream/session-idle";
import { type SocketRole, Sockets } from "../src/stream/sockets";
import { StreamMetrics } from "../src/stream/stream-metrics";

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
  readonly #intake: FrameIntake;
  readonly #flusher: D1Flusher;
  readonly #sessionIdle: SessionIdle;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#config = getConfig(env);
    this.#rows = new RowMeter(ctx.storage.sql);
    this.#stores = openStores(this.#rows.sql);
    // Exact-text pings are answered by the runtime without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING_TEXT, PONG_TEXT));
    this.#sockets = new Sockets(ctx);
    this.#alarm = new AlarmPlan(ctx.storage);
    this.#sessionIdle = new SessionIdle(
      () => this.#stores.sessions,
      this.#sockets,
      this.#config.sessionIdleMs,
    );
    this.#metrics = new StreamMetrics(
      env,
      this.#config,
      this.#userId() ?? "unknown",
      { stores: () => this.#stores, sockets: this.#sockets },
      ctx.storage,
      (at) => this.#alarm.ensure(at),
    );
    this.#fanOut = new FanOut(ctx, this.#sockets, this.#metrics);
    this.#flusher = new D1Flusher({
      database: (userId) => this.#database(userId),
      config: this.#config,
      storage: ctx.storage,
      stores: () => this.#stores,
      metrics: this.#metrics,
      rows: this.#rows,
      alarm: this.#alarm,
      userId: () => this.#userId(),
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
    const queue = new CommitQueue((ops) => {
      this.#admission.drained();
      committer.commit(ops);
    });
    this.#intake = new FrameIntake({
      config: this.#config,
      sockets: this.#sockets,
      admission: this.#admission,
      queue,
      fanOut: this.#fanOut,
      metrics: this.#metrics,
      acked: () => this.#stores.acked,
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
    this.#intake.message(ws, message);
  }

  /** A `samples` frame POSTed over HTTP (parsed by the Worker): answered with the frame a socket would get. */
  async ingest(userId: string, parsed: ParsedSamples): Promise<ReplyFrame> {
    this.#rememberUser(userId);
    return this.#intake.posted(parsed);
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
    this.#socketGone(ws, role);
  }

  override webSocketError(ws: WebSocket, error: unknown): void {
    const { role } = this.#sockets.state(ws);
    this.#metrics.socketError(role);
    console.warn("websocket error", error);
    this.#socketGone(ws, role);
  }

  /**
   * A relay's sessions start their idle countdown. With the last socket gone the metrics ship now: an idle object
   * may be evicted before its alarm, and what it recorded lives in memory until shipped.
   */
  #socketGone(ws: WebSocket, role: SocketRole): void {
    if (role === "relay") this.#relayLeft(ws);
    if (!this.#sockets.anyOpen()) this.ctx.waitUntil(this.#metrics.ship());
  }

  /** A relay socket left: its sessions that no other relay carries start their SESSION_IDLE_MS countdown. */
  #relayLeft(closed: WebSocket): void {
    this.#alarm.ensure(this.#sessionIdle.relayLeft(closed, Date.now()));
  }

  // ---- alarm: D1 flush, session expiry, token expiry, metrics ---------------------------------------------

  /** Expired tokens (`unauthorized`, close 1008), idle sessions, the D1 flush, metrics; then the next alarm. */
  override async alarm(): Promise<void> {
    this.#alarm.fired();
    const now = Date.now();
    try {
      for (const ws of this.#sockets.expiredOpen(now)) this.#fanOut.expire(ws);
      this.#metrics.sessionsChanged(0, this.#sessionIdle.expire(now));
      await this.#flusher.flush();
    } catch (err) {
      console.error("alarm failed", err);
    } finally {
      await this.#metrics.ship();
      this.#planAlarm();
    }
  }

  #planAlarm(): void {
    const now = Date.now();
    this.#alarm.plan([
      this.#flusher.hasWork ? now + this.#flusher.delayMs() : null,
      ...this.#sessionIdle.deadlines(now),
      this.#sockets.nextExpiry(),
      this.#metrics.dueAt(now),
    ]);
  }

  // ---- state -------------------------------------------------------------------------------------------

  /** The object's name is its user id; an object of an older release learnt it at first contact. */
  #userId(): string | undefined {
    return this.ctx.id.name ?? this.#stores.meta.userId ?? undefined;
  }

  /** The user's D1 database: placed by the directory before the first flush, then kept in the object's meta. */
  async #database(userId: string): Promise<D1Database> {
    const dbs = userDatabases(this.env);
    let name = this.#stores.meta.database;
    if (name === null) {
      name = await placeUser(dbs, userId, this.#config.newUserDatabases);
      this.#stores.meta.database = name;
    }
    return databaseNamed(dbs, name, userId);
  }

  /** The object learns its user id at first contact (the Worker sends it with every request). */
  #rememberUser(userId: string | null): void {
    if (userId && this.#stores.meta.userId !== userId) this.#stores.meta.userId = userId;
  }
}
