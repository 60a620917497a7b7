import { DurableObject } from "cloudflare:workers";
import { type Config, getConfig } from "../src/config";
import type { Env } from "../src/env";
import type { UserGaugeSnapshot } from "../src/metrics/instruments";
import { ObjectMetrics } from "../src/metrics/object-metrics";
import {
  ackFrame,
  type ErrorFrame,
  errorFrame,
  PING_TEXT,
  PONG_TEXT,
  type ReplyFrame,
  type SessionEndFrame,
  type SessionStartFrame,
  samplesFrameText,
} from "../src/protocol/frames";
import { TOKEN_EXP_HEADER, USER_HEADER } from "../src/protocol/object-request";
import { type ParsedSamples, parseClientFrame } from "../src/protocol/parse-frame";
import { writeFlushBatch } from "../src/storage/d1-flush";
import { ObjectMeta } from "../src/storage/object-meta";
import { RelayMarks } from "../src/storage/relay-marks";
import { SampleBuffer } from "../src/storage/sample-buffer";
import { SessionStore } from "../src/storage/sessions";

type SocketRole = "relay" | "consumer";

/**
 * Per-socket state, kept in the socket's attachment so that it survives hibernation (at most 16 KiB:
 * https://developers.cloudflare.com/durable-objects/best-practices/websockets/). The lists are bounded.
 */
interface SocketState {
  role: SocketRole;
  /** Token expiry (epoch seconds): later frames are refused `unauthorized`. */
  exp: number;
  /** Relay ids and session ids this socket has sent frames for (most recent last). */
  relays: string[];
  sessions: string[];
}
const MAX_IDS_PER_SOCKET = 32;

/** A frame waiting for the next commit, in arrival order. */
type PendingOp =
  | {
      kind: "samples";
      parsed: ParsedSamples;
      receivedAt: number;
      reply: Reply;
      viaHttp: boolean;
      /** The resend of a frame refused earlier (RelayMarks holes). */
      fillsHole: boolean;
    }
  /** An answer that must not overtake the frames queued before it: a duplicate's ack, or an error. */
  | { kind: "reply"; frame: ReplyFrame; receivedAt: number; reply: Reply }
  | { kind: "session_start"; frame: SessionStartFrame; receivedAt: number }
  | { kind: "session_end"; frame: SessionEndFrame; receivedAt: number };

type Reply = (frame: ReplyFrame) => void;

/** Longest wait between D1 flush retries (the backoff doubles from FLUSH_INTERVAL_MS up to this). */
const MAX_FLUSH_BACKOFF_MS = 60_000;
/** D1 flush batches per alarm run; more waiting samples re-arm the alarm at once (D1: 1,000 queries per invocation). */
const MAX_FLUSH_BATCHES_PER_ALARM = 8;

/**
 * One per user: the user's relay and consumer WebSockets (hibernatable), the durable sample buffer, the
 * relays' dedup marks and the sessions, all in the object's SQLite storage; the alarm flushes to D1.
 *
 * Durability and throughput: frames are not written one by one. Each frame is validated and admitted (dedup,
 * capacity) at once, then queued; a zero-delay timer drains the queue, so every frame that arrived while the
 * previous turn ran is committed in ONE transaction. Acks are sent right after that transaction; the output
 * gate holds them (and the fan-out) until the commit is durable, so no ack ever precedes durability:
 * https://blog.cloudflare.com/durable-objects-easy-fast-correct-choose-three/
 */
export class UserStream extends DurableObject<Env> {
  readonly #config: Config;
  readonly #metrics: ObjectMetrics;
  #meta!: ObjectMeta;
  #buffer!: SampleBuffer;
  #relays!: RelayMarks;
  #sessions!: SessionStore;

  readonly #socketStates = new WeakMap<WebSocket, SocketState>();
  #queue: PendingOp[] = [];
  #drainScheduled = false;
  /** Samples and highest seq per relay admitted into the queue but not committed yet. */
  #queuedSamples = 0;
  #queuedHigh = new Map<string, number>();
  /** The alarm time this instance set or read (null: none). */
  #alarmAt: number | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#config = getConfig(env);
    this.#loadState();
    // Exact-text pings are answered by the runtime without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING_TEXT, PONG_TEXT));
    const userId = ctx.id.name ?? this.#meta.userId ?? "unknown";
    this.#metrics = new ObjectMetrics(env, userId, () => this.#gaugeSnapshot(), ctx.storage);
    ctx.blockConcurrencyWhile(async () => {
      const at = await ctx.storage.getAlarm();
      this.#alarmAt = at ?? null;
    });
  }

  /** Opens (or reopens) the storage modules; also after a failed transaction, to drop in-memory state. */
  #loadState(): void {
    const sql = this.ctx.storage.sql;
    this.#meta = new ObjectMeta(sql);
    this.#buffer = new SampleBuffer(sql);
    this.#relays = new RelayMarks(sql);
    this.#sessions = new SessionStore(sql);
  }

  // ---- connections -------------------------------------------------------------------------------------

  /** WebSocket upgrades forwarded by the Worker after auth: `/relay` or `/consume?since=MS`. */
  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const role: SocketRole = url.pathname === "/relay" ? "relay" : "consumer";
    this.#rememberUser(request.headers.get(USER_HEADER));
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server, [role]);
    const state: SocketState = {
      role,
      exp: Number(request.headers.get(TOKEN_EXP_HEADER) ?? 0),
      relays: [],
      sessions: [],
    };
    server.serializeAttachment(state);
    this.#socketStates.set(server, state);
    this.#metrics.instruments.wsConnections.add(1, { role, status: "opened" });
    const since = url.searchParams.get("since");
    if (role === "consumer" && since !== null) this.#sendBacklog(server, Number(since));
    this.#armForMetrics();
    return new Response(null, { status: 101, webSocket: client });
  }

  /** Buffered samples newer than `sinceMs`, in acceptance order, before any live frame. */
  #sendBacklog(ws: WebSocket, sinceMs: number): void {
    let sent = 0;
    for (const f of this.#buffer.newerThan(sinceMs)) {
      ws.send(samplesFrameText(f.relayId, f.sessionId, f.seq, f.samplesJson));
      sent++;
    }
    if (sent > 0) this.#metrics.instruments.wsMessagesSent.add(sent, { message_type: "samples" });
  }

  override webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): void {
    const receivedAt = Date.now();
    const state = this.#socketState(ws);
    const m = this.#metrics.instruments;
    const reply: Reply = (frame) => this.#send(ws, frame);
    const parsed = parseClientFrame(message, this.#config);
    const type = parsed.ok ? parsed.frame.type : parsed.type;
    m.wsMessagesReceived.add(1, { message_type: type });
    m.messagesReceived.add(1, { message_type: type, user_id: this.#metrics.userId });
    if (!parsed.ok) {
      this.#refuse(type, parsed.error, reply);
      return;
    }
    if (parsed.frame.type === "ping") {
      // A ping with other spacing than the auto-response's exact text reaches the object.
      ws.send(PONG_TEXT);
      m.wsMessagesSent.add(1, { message_type: "pong" });
      m.messagesProcessed.add(1, { message_type: "ping" });
      this.#armForMetrics();
      return;
    }
    const seq = parsed.frame.type === "samples" ? parsed.frame.seq : undefined;
    if (state.role === "consumer") {
      this.#refuse(type, errorFrame("invalid", "type: a consumer sends only ping", seq), reply);
      return;
    }
    if (state.exp * 1000 <= receivedAt) {
      this.#refuse(type, errorFrame("unauthorized", "token expired: reconnect with a new token", seq), reply);
      ws.close(1008, "token expired");
      return;
    }
    if (parsed.samples) {
      const { relay_id, session_id } = parsed.samples.frame;
      this.#trackSocket(ws, state, relay_id, session_id);
      this.#admitSamples(parsed.samples, receivedAt, reply, false);
    } else if (parsed.frame.type === "session_start") {
      this.#trackSocket(ws, state, parsed.frame.relay_id, parsed.frame.session_id);
      this.#enqueue({ kind: "session_start", frame: parsed.frame, receivedAt });
    } else if (parsed.frame.type === "session_end") {
      this.#enqueue({ kind: "session_end", frame: parsed.frame, receivedAt });
    }
  }

  /**
   * A `samples` frame POSTed over HTTP (already parsed by the Worker): answered with the same ack or error
   * frame a relay socket would get, once durable.
   */
  async ingest(userId: string, parsed: ParsedSamples): Promise<ReplyFrame> {
    this.#rememberUser(userId);
    const m = this.#metrics.instruments;
    m.messagesReceived.add(1, { message_type: "samples", user_id: this.#metrics.userId });
    return new Promise<ReplyFrame>((resolve) => this.#admitSamples(parsed, Date.now(), resolve, true));
  }

  override webSocketClose(ws: WebSocket, code: number, reason: string): void {
    const state = this.#socketState(ws) as SocketState | null;
    const role = state?.role ?? "relay";
    this.#metrics.instruments.wsConnections.add(1, { role, status: "closed" });
    try {
      ws.close(code, reason);
    } catch {
      // already closed
    }
    if (role === "relay") this.#markUncarriedSessionsIdle(ws);
    this.#armForMetrics();
  }

  override webSocketError(ws: WebSocket, error: unknown): void {
    const state = this.#socketState(ws) as SocketState | null;
    const m = this.#metrics.instruments;
    m.wsConnections.add(1, { role: state?.role ?? "relay", status: "error" });
    m.wsErrors.add(1, { error_type: "socket" });
    console.warn("websocket error", error);
    if (state?.role === "relay") this.#markUncarriedSessionsIdle(ws);
    this.#armForMetrics();
  }

  // ---- frames ------------------------------------------------------------------------------------------

  /** Dedup, then capacity; an admitted frame waits in the queue for the next commit. */
  #admitSamples(parsed: ParsedSamples, receivedAt: number, reply: Reply, viaHttp: boolean): void {
    const { frame } = parsed;
    const high = Math.max(this.#relays.highest(frame.relay_id), this.#queuedHigh.get(frame.relay_id) ?? 0);
    const fillsHole = frame.seq <= high && this.#relays.takeHole(frame.relay_id, frame.seq, receivedAt);
    if (frame.seq <= high && !fillsHole) {
      // A resend: acked again (after whatever is queued before it) and not stored twice.
      this.#enqueue({ kind: "reply", frame: ackFrame(frame.seq), receivedAt, reply });
      return;
    }
    const count = frame.samples.length;
    const capacity = this.#config.bufferCapacity;
    if (count > capacity) {
      const message = `samples: ${count} samples can never fit a buffer of ${capacity}`;
      this.#refuse("samples", errorFrame("too_large", message, frame.seq), reply);
      return;
    }
    if (this.#buffer.size + this.#queuedSamples + count > capacity) {
      const retryAfterMs = this.#retryAfterMs();
      const message = `buffer holds ${this.#buffer.size + this.#queuedSamples} of ${capacity} samples; retry after ${retryAfterMs} ms`;
      this.#relays.addHole(frame.relay_id, frame.seq, receivedAt);
      this.#refuse("samples", errorFrame("buffer_full", message, frame.seq, retryAfterMs), reply);
      return;
    }
    this.#queuedSamples += count;
    if (frame.seq > high) this.#queuedHigh.set(frame.relay_id, frame.seq);
    this.#enqueue({ kind: "samples", parsed, receivedAt, reply, viaHttp, fillsHole });
  }

  #enqueue(op: PendingOp): void {
    this.#queue.push(op);
    if (this.#drainScheduled) return;
    this.#drainScheduled = true;
    // A timer, not a microtask: frames already delivered behind this one get their turn first and join the
    // same transaction (the input gate stays open: SQLite calls are synchronous, nothing is awaited).
    setTimeout(() => this.#drain(), 0);
  }

  /** Commits every queued frame in one transaction, then acks and fans out in arrival order. */
  #drain(): void {
    const ops = this.#queue;
    this.#queue = [];
    this.#drainScheduled = false;
    this.#queuedSamples = 0;
    this.#queuedHigh.clear();
    const now = Date.now();
    let created = 0;
    let ended = 0;
    try {
      this.ctx.storage.transactionSync(() => {
        // One buffer row per frame; session counts and relay marks once per batch, not once per frame.
        const sampleCounts = new Map<string, number>();
        const relayHighs = new Map<string, number>();
        const viaHttp = new Set<string>();
        for (const op of ops) {
          if (op.kind === "samples") {
            const { frame, samplesJson, tMin, tMax } = op.parsed;
            const count = frame.samples.length;
            if (this.#sessions.start(frame.session_id, frame.relay_id, now) === "created") created++;
            this.#buffer.append(
              frame.relay_id,
              frame.session_id,
              frame.seq,
              now,
              count,
              tMin,
              tMax,
              samplesJson,
            );
            sampleCounts.set(frame.session_id, (sampleCounts.get(frame.session_id) ?? 0) + count);
            relayHighs.set(frame.relay_id, Math.max(relayHighs.get(frame.relay_id) ?? 0, frame.seq));
            if (op.fillsHole) this.#relays.fillHole(frame.relay_id, frame.seq);
            if (op.viaHttp) viaHttp.add(frame.session_id);
          } else if (op.kind === "session_start") {
            if (this.#sessions.start(op.frame.session_id, op.frame.relay_id, now) === "created") created++;
            this.#sessions.setIdle(op.frame.session_id, null);
          } else if (op.kind === "session_end") {
            // Ending an unknown or already ended session is a no-op: a relay may resend it after a reconnect.
            if (this.#sessions.end(op.frame.session_id, now)) ended++;
          }
        }
        for (const [sessionId, count] of sampleCounts) this.#sessions.addSamples(sessionId, count);
        for (const [relayId, seq] of relayHighs) this.#relays.advance(relayId, seq, now);
        // Sessions fed over HTTP have no socket to wait for: idle from their last frame.
        for (const sessionId of viaHttp) this.#idleUnlessCarried(sessionId, now);
      });
    } catch (err) {
      // Nothing of these frames was kept: drop in-memory state, read it again from storage, tell the relays.
      console.error("commit of queued frames failed", err);
      this.#loadState();
      for (const op of ops) {
        if (op.kind === "samples") {
          try {
            this.#relays.addHole(op.parsed.frame.relay_id, op.parsed.frame.seq, now);
          } catch {
            // Storage still failing: the frames after these fail the same way, so none is acked before them.
          }
        }
        if (op.kind === "samples" || (op.kind === "reply" && op.frame.type === "ack")) {
          const seq = op.kind === "samples" ? op.parsed.frame.seq : op.frame.seq;
          const error = errorFrame("internal", "storage write failed; resend the frame", seq);
          this.#metrics.instruments.messagesFailed.add(1, {
            message_type: "samples",
            error_type: "internal",
          });
          op.reply(error);
        } else if (op.kind === "reply") {
          op.reply(op.frame);
        }
      }
      return;
    }
    this.#afterCommit(ops, created, ended);
  }

  /** Acks, fan-out and metrics of a committed batch; the output gate releases them once it is durable. */
  #afterCommit(ops: PendingOp[], created: number, ended: number): void {
    const m = this.#metrics.instruments;
    const consumers = this.ctx.getWebSockets("consumer");
    let acks = 0;
    let fannedOut = 0;
    for (const op of ops) {
      if (op.kind === "samples") {
        const { frame, samplesJson } = op.parsed;
        op.reply(ackFrame(frame.seq));
        acks++;
        if (consumers.length > 0) {
          const text = samplesFrameText(frame.relay_id, frame.session_id, frame.seq, samplesJson);
          for (const consumer of consumers) fannedOut += this.#trySend(consumer, text);
        }
        m.messagesProcessed.add(1, { message_type: "samples" });
      } else if (op.kind === "reply") {
        op.reply(op.frame);
        if (op.frame.type === "ack") {
          acks++;
          m.messagesProcessed.add(1, { message_type: "samples" });
        }
      } else {
        m.messagesProcessed.add(1, { message_type: op.kind });
      }
    }
    if (fannedOut > 0) m.wsMessagesSent.add(fannedOut, { message_type: "samples" });
    if (created > 0) m.sessionsCreated.add(created);
    if (ended > 0) m.sessionsEnded.add(ended);
    const fanoutAt = Date.now();
    if (consumers.length > 0) {
      for (const op of ops) {
        if (op.kind === "samples") {
          m.wsMessageLatency.record((fanoutAt - op.receivedAt) / 1000, { message_type: "samples" });
        }
      }
    }
    if (acks > 0) {
      // Receive to durable ack: sync() resolves once the commit above is durable (when the acks go out).
      void this.ctx.storage.sync().then(() => {
        const ackedAt = Date.now();
        for (const op of ops) {
          if (op.kind === "samples" || (op.kind === "reply" && op.frame.type === "ack")) {
            m.wsMessageLatency.record((ackedAt - op.receivedAt) / 1000, { message_type: "ack" });
          }
        }
      });
    }
    if (this.#buffer.size > 0 || this.#sessions.hasUnsynced)
      this.#ensureAlarm(Date.now() + this.#flushDelayMs());
    this.#armForMetrics();
  }

  /** Answers a frame with an error, after the answers of the frames queued before it (answers stay in order). */
  #refuse(type: string, error: ErrorFrame, reply: Reply): void {
    this.#metrics.instruments.messagesFailed.add(1, { message_type: type, error_type: error.code });
    if (this.#queue.length > 0) this.#enqueue({ kind: "reply", frame: error, receivedAt: Date.now(), reply });
    else reply(error);
    this.#armForMetrics();
  }

  #send(ws: WebSocket, frame: ReplyFrame): void {
    if (this.#trySend(ws, JSON.stringify(frame))) {
      this.#metrics.instruments.wsMessagesSent.add(1, { message_type: frame.type });
    }
  }

  /** 1 if sent, 0 if the socket is gone (its close event does the bookkeeping). */
  #trySend(ws: WebSocket, text: string): number {
    try {
      ws.send(text);
      return 1;
    } catch {
      return 0;
    }
  }

  /** Remembers which relays and sessions a socket carries; a known relay on a new socket is a reconnection. */
  #trackSocket(ws: WebSocket, state: SocketState, relayId: string, sessionId: string): void {
    let changed = false;
    if (!state.relays.includes(relayId)) {
      if (this.#relays.knows(relayId)) {
        this.#metrics.instruments.wsReconnections.add(1, { reason: "resume" });
      }
      state.relays = [...state.relays, relayId].slice(-MAX_IDS_PER_SOCKET);
      changed = true;
    }
    if (!state.sessions.includes(sessionId)) {
      state.sessions = [...state.sessions, sessionId].slice(-MAX_IDS_PER_SOCKET);
      changed = true;
    }
    if (changed) ws.serializeAttachment(state);
  }

  /** The socket's state: cached per instance, read from the attachment after hibernation. */
  #socketState(ws: WebSocket): SocketState {
    let state = this.#socketStates.get(ws);
    if (!state) {
      state = ws.deserializeAttachment() as SocketState;
      this.#socketStates.set(ws, state);
    }
    return state;
  }

  // ---- sessions ----------------------------------------------------------------------------------------

  /** Session ids carried by the connected relay sockets (other than `except`). */
  #carriedSessions(except?: WebSocket): Set<string> {
    const carried = new Set<string>();
    for (const ws of this.ctx.getWebSockets("relay")) {
      if (ws === except || ws.readyState !== WebSocket.OPEN) continue;
      for (const id of this.#socketState(ws).sessions) carried.add(id);
    }
    return carried;
  }

  #idleUnlessCarried(sessionId: string, now: number): void {
    if (!this.#carriedSessions().has(sessionId)) this.#sessions.setIdle(sessionId, now);
  }

  /** A relay socket left: its sessions that no other relay carries start their SESSION_IDLE_MS countdown. */
  #markUncarriedSessionsIdle(closed: WebSocket): void {
    const now = Date.now();
    const carried = this.#carriedSessions(closed);
    for (const session of this.#sessions.open()) {
      if (session.idleSince === null && !carried.has(session.id)) this.#sessions.setIdle(session.id, now);
    }
    const expiry = this.#sessions.nextExpiry(this.#config.sessionIdleMs);
    if (expiry !== null) this.#ensureAlarm(expiry);
  }

  /**
   * Ends sessions idle for SESSION_IDLE_MS. Sessions that no socket carries but are not marked idle (their
   * sockets vanished in a restart without a close event) start their countdown here.
   */
  #endIdleSessions(now: number): void {
    const carried = this.#carriedSessions();
    for (const session of this.#sessions.open()) {
      if (session.idleSince === null && !carried.has(session.id)) this.#sessions.setIdle(session.id, now);
    }
    let ended = 0;
    for (const session of this.#sessions.expired(now, this.#config.sessionIdleMs)) {
      // Ended when its last relay left, not when the alarm noticed.
      if (this.#sessions.end(session.id, session.idleSince ?? now)) ended++;
    }
    if (ended > 0) this.#metrics.instruments.sessionsEnded.add(ended);
  }

  // ---- flush to D1 -------------------------------------------------------------------------------------

  override async alarm(): Promise<void> {
    this.#alarmAt = null;
    try {
      this.#endIdleSessions(Date.now());
      await this.#flushToD1();
    } catch (err) {
      console.error("alarm failed", err);
    } finally {
      await this.#metrics.flush();
      this.#scheduleNextAlarm();
    }
  }

  /**
   * Writes the buffer to D1, oldest first, FLUSH_BATCH_SIZE samples per batch. Samples leave the buffer only
   * after D1 committed their batch; a failure keeps them and backs off.
   */
  async #flushToD1(): Promise<void> {
    const userId = this.#meta.userId ?? this.ctx.id.name;
    if (!userId) throw new Error("the object does not know its user id");
    const m = this.#metrics.instruments;
    for (let batch = 0; batch < MAX_FLUSH_BATCHES_PER_ALARM; batch++) {
      if (this.#buffer.size === 0 && !this.#sessions.hasUnsynced) return;
      const selection = this.#buffer.selectForFlush(this.#config.flushBatchSize);
      const flushing = new Map<string, number>();
      for (const piece of selection.pieces) {
        const id = piece.frame.sessionId;
        flushing.set(id, (flushing.get(id) ?? 0) + piece.count);
      }
      const sessionRows = this.#sessions.rowsForD1(flushing);
      const startedAt = Date.now();
      try {
        await writeFlushBatch(this.env.DB, userId, selection.pieces, sessionRows);
      } catch (err) {
        const failures = this.#meta.flushFailures + 1;
        this.#meta.flushFailures = failures;
        console.error(`D1 flush failed (attempt ${failures}); samples stay buffered: ${String(err)}`);
        return;
      }
      const seconds = (Date.now() - startedAt) / 1000;
      this.ctx.storage.transactionSync(() => {
        this.#buffer.release(selection);
        this.#sessions.synced(sessionRows);
        if (this.#meta.flushFailures > 0) this.#meta.flushFailures = 0;
      });
      for (const [table, rows] of [
        ["samples", selection.total],
        ["sessions", sessionRows.length],
      ] as const) {
        if (rows === 0) continue;
        m.dbWrites.add(rows, { table });
        m.dbBatchSize.record(rows, { table });
        m.dbWriteDuration.record(seconds, { table });
      }
    }
  }

  /**
   * Delay before the next flush attempt with `waiting` samples to write: none once a full batch waits, else the
   * flush interval; after failures the interval doubles per consecutive failure, capped.
   */
  #flushDelayMs(waiting = this.#buffer.size): number {
    const interval = this.#config.flushIntervalMs;
    const failures = this.#meta.flushFailures;
    if (failures === 0) return waiting >= this.#config.flushBatchSize ? 0 : interval;
    return Math.min(interval * 2 ** failures, Math.max(MAX_FLUSH_BACKOFF_MS, interval));
  }

  /**
   * buffer_full's retry_after_ms: until the next flush can have made room. The queued frames count: they are
   * about to be committed and will move the alarm earlier if they complete a batch.
   */
  #retryAfterMs(): number {
    const now = Date.now();
    const flushAt = Math.min(
      this.#alarmAt ?? Number.POSITIVE_INFINITY,
      now + this.#flushDelayMs(this.#buffer.size + this.#queuedSamples),
    );
    return Math.max(100, flushAt - now + 100);
  }

  // ---- alarm -------------------------------------------------------------------------------------------

  /** The alarm must never be lost: every path that leaves work for later makes sure one is set. */
  #scheduleNextAlarm(): void {
    const now = Date.now();
    const times: number[] = [];
    if (this.#buffer.size > 0 || this.#sessions.hasUnsynced) {
      times.push(now + this.#flushDelayMs());
    }
    const expiry = this.#sessions.nextExpiry(this.#config.sessionIdleMs);
    if (expiry !== null) times.push(expiry);
    // Watchdog while sessions are open: notices relays that vanished without a close event.
    if (this.#sessions.openCount > 0) times.push(now + this.#config.sessionIdleMs);
    const metricsDue = this.#metricsDue();
    if (metricsDue !== null) times.push(metricsDue);
    if (times.length > 0) this.#ensureAlarm(Math.max(now, Math.min(...times)));
  }

  /** When the metrics need the alarm: after a flush interval while something is pending (never sooner). */
  #metricsDue(): number | null {
    const due = this.#metrics.nextFlushDueAt();
    if (due === null) return null;
    return Math.max(due, Date.now() + this.#config.flushIntervalMs);
  }

  /**
   * Recorded metrics need an alarm to ship them within about a flush interval: deltas live only in memory until
   * then, and a hibernated object is evicted soon. Asking costs a gauge snapshot, so only when the alarm set is
   * later than that (e.g. only the session watchdog) or none is set.
   */
  #armForMetrics(): void {
    const soonest = Date.now() + this.#config.flushIntervalMs;
    if (this.#alarmAt === null || this.#alarmAt > soonest) this.#ensureAlarm(this.#metricsDue());
  }

  #ensureAlarm(at: number | null): void {
    if (at === null) return;
    if (this.#alarmAt !== null && this.#alarmAt <= at) return;
    this.#alarmAt = at;
    void this.ctx.storage.setAlarm(at);
  }

  // ---- state -------------------------------------------------------------------------------------------

  /** The object learns its user id at first contact (the Worker sends it with every request). */
  #rememberUser(userId: string | null): void {
    if (userId && this.#meta.userId !== userId) this.#meta.userId = userId;
  }

  #gaugeSnapshot(): UserGaugeSnapshot {
    return {
      userId: this.#metrics.userId,
      relayConnections: this.ctx.getWebSockets("relay").length,
      consumerConnections: this.ctx.getWebSockets("consumer").length,
      bufferSize: this.#buffer.size,
      bufferCapacity: this.#config.bufferCapacity,
      activeSessions: this.#sessions.openCount,
      pendingWrites: { samples: this.#buffer.size, sessions: this.#sessions.unsyncedCount },
    };
  }
}
