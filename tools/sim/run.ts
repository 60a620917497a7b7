import { mintToken } from "../lib/token.ts";
import { RefusalWatch } from "./connection-refusal.ts";
import { SimConsumer } from "./consumer.ts";
import { emptyLedger, type UserLedger } from "./loss-check.ts";
import { HARD_LIMITS, type SimOptions } from "./options.ts";
import { Pacer } from "./pacer.ts";
import { SimRelay } from "./relay.ts";
import { RunStats } from "./run-stats.ts";

export interface SimUser {
  userId: string;
  relayToken: string;
  consumerToken: string;
}

export interface LoadResult {
  users: SimUser[];
  stats: RunStats;
  ledgers: Map<string, UserLedger>;
  /** From the first frame to the last answer (ms). */
  elapsedMs: number;
  /** Time to connect every relay before the first frame (ms), and how many did. */
  connectMs: number;
  relaysConnected: number;
  /** Frames acked per relay, in relay order. */
  framesAckedPerRelay: number[];
}

/** Sockets that are not open by then are left retrying in the background; the run starts without them. */
const CONNECT_TIMEOUT_MS = 30_000;
/** Consumers get this long after the last ack for the last fan-outs to arrive. */
const FANOUT_GRACE_MS = 500;
const PROGRESS_INTERVAL_MS = 1_000;

/** ws(s)://host/path?user_id=U&token=T: browsers' way to authenticate a WebSocket, so every client can use it. */
export function socketUrl(base: string, path: string, userId: string, token: string): string {
  const url = new URL(path, base);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.searchParams.set("user_id", userId);
  url.searchParams.set("token", token);
  return url.toString();
}

/** Mints the relay and consumer tokens of every simulated user. */
export async function makeUsers(options: SimOptions): Promise<SimUser[]> {
  const ttlSeconds = Math.ceil(options.durationS + options.drainTimeoutS + options.settleTimeoutS) + 3_600;
  return Promise.all(
    Array.from({ length: options.users }, async (_, i) => {
      const userId = `${options.userPrefix}-u${i}`;
      const [relayToken, consumerToken] = await Promise.all([
        mintToken({ secret: options.secret, userId, role: "relay", ttlSeconds }),
        mintToken({ secret: options.secret, userId, role: "consumer", ttlSeconds }),
      ]);
      return { userId, relayToken, consumerToken };
    }),
  );
}

/**
 * Runs the load: connects the consumers, then the relays, sends until the duration or the frame limit is
 * reached, and waits (bounded) for the last acks. `onProgress` is called about once a second.
 * Rejects with a ConnectionRefusedError as soon as the server refuses a connection (401, 403, ...) or, before
 * the first socket, cannot be reached: a run against a wrong URL or secret fails at once, naming why.
 */
export async function runLoad(
  options: SimOptions,
  onProgress?: (stats: RunStats, elapsedMs: number) => void,
): Promise<LoadResult> {
  const users = await makeUsers(options);
  const stats = new RunStats();
  const ledgers = new Map(users.map((u) => [u.userId, emptyLedger()]));
  const budget = options.lossCheck ? HARD_LIMITS.lossCheckSamples : Number.POSITIVE_INFINITY;
  const pacer = new Pacer(options.rate, budget);
  const refusals = new RefusalWatch();
  const relayUrl = (user: SimUser) => socketUrl(options.url, options.relayPath, user.userId, user.relayToken);
  const consumerUrl = (user: SimUser) =>
    socketUrl(options.url, "/v1/consume", user.userId, user.consumerToken);

  // Every user's tokens come from the same secret: one user's URLs tell whether the server takes them.
  const first = users[0] as SimUser;
  await refusals.preflight(relayUrl(first), "relay");
  if (options.consumers > 0) await refusals.preflight(consumerUrl(first), "consumer");

  const relays: SimRelay[] = [];
  const relaysByUser = users.map(() => new Map<string, SimRelay>());
  for (let i = 0; i < options.relays; i++) {
    const userIndex = i % options.users;
    const user = users[userIndex] as SimUser;
    const relayId = `r${Math.floor(i / options.users)}`;
    const url = relayUrl(user);
    const relay = new SimRelay({
      url,
      relayId,
      sessionId: `s-${relayId}`,
      samplesPerFrame: options.samples,
      sampleBytes: options.sampleBytes,
      window: options.window,
      maxFrames: options.frames,
      pacer,
      stats,
      ledger: ledgers.get(user.userId) as UserLedger,
      onConnectFailed: () => refusals.connectFailed(url, "relay"),
    });
    relays.push(relay);
    relaysByUser[userIndex]?.set(relayId, relay);
  }
  const consumers = Array.from({ length: options.consumers }, (_, i) => {
    const userIndex = i % options.users;
    const user = users[userIndex] as SimUser;
    const url = consumerUrl(user);
    return new SimConsumer(url, relaysByUser[userIndex] as Map<string, SimRelay>, stats, () =>
      refusals.connectFailed(url, "consumer"),
    );
  });
  const closeAll = () => {
    for (const relay of relays) relay.close();
    for (const consumer of consumers) consumer.close();
  };
  /** Waits for `work`, or stops everything and throws as soon as a connection is refused. */
  const unlessRefused = async <T>(work: Promise<T>): Promise<T> => {
    const outcome = await Promise.race([work, refusals.refused]);
    if (refusals.error) {
      closeAll();
      throw refusals.error;
    }
    return outcome as T;
  };

  const connectStartedAt = performance.now();
  await unlessRefused(Promise.all(consumers.map((c) => c.connect(CONNECT_TIMEOUT_MS))));
  const connected = await unlessRefused(Promise.all(relays.map((r) => r.connect(CONNECT_TIMEOUT_MS))));
  const relaysConnected = connected.filter(Boolean).length;

  // The clock starts once the sockets are open: connecting (and creating the users' objects) is not ingestion.
  const startedAt = performance.now();
  const connectMs = startedAt - connectStartedAt;
  pacer.start(startedAt);
  for (const relay of relays) relay.start();
  // With a target rate, frames become due with time rather than with acks: a ticker offers them.
  let rotation = 0;
  const ticker =
    options.rate > 0
      ? setInterval(() => {
          rotation = (rotation + 1) % relays.length;
          for (let i = 0; i < relays.length; i++) relays[(rotation + i) % relays.length]?.pump();
        }, 1)
      : null;
  const progress = onProgress
    ? setInterval(() => onProgress(stats, performance.now() - startedAt), PROGRESS_INTERVAL_MS)
    : null;

  try {
    const stopAt = startedAt + options.durationS * 1_000;
    while (
      performance.now() < stopAt &&
      relays.some((r) => r.active) &&
      !pacer.exhausted &&
      !refusals.error
    ) {
      await sleep(Math.min(50, Math.max(1, stopAt - performance.now())));
    }
    if (ticker) clearInterval(ticker);
    await unlessRefused(Promise.all(relays.map((r) => r.drain(options.drainTimeoutS * 1_000))));
  } finally {
    if (ticker) clearInterval(ticker);
    if (progress) clearInterval(progress);
  }
  const elapsedMs = performance.now() - startedAt;
  if (options.consumers > 0) await sleep(FANOUT_GRACE_MS);
  closeAll();
  const framesAckedPerRelay = relays.map((r) => r.framesAcked);
  return { users, stats, ledgers, elapsedMs, connectMs, relaysConnected, framesAckedPerRelay };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
