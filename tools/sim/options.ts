import { parseArgs } from "node:util";

/** What one simulator run does. Every count and duration is bounded by HARD_LIMITS. */
export interface SimOptions {
  /** Base URL of the deployment, e.g. http://127.0.0.1:8787 or https://zander-edge.example.workers.dev */
  url: string;
  /** AUTH_SECRET of that deployment: the simulator mints its own relay and consumer tokens. */
  secret: string;
  users: number;
  /** Relays in total, spread round-robin over the users (relay i belongs to user i % users). */
  relays: number;
  /** Consumers in total, spread round-robin over the users. */
  consumers: number;
  /** Samples per frame. */
  samples: number;
  /** Pad each sample's text to about this many bytes with an extra field (the server ignores it); 0: none. */
  sampleBytes: number;
  /** Target frames per second over all relays; 0 sends as fast as acks allow. */
  rate: number;
  /** Unacked frames a relay may have in flight. */
  window: number;
  /** The run stops creating frames after this many seconds ... */
  durationS: number;
  /** ... or once every relay sent this many frames, whichever comes first (null: no frame limit). */
  frames: number | null;
  /** Seconds to wait for the last unacked frames at the end of the run. */
  drainTimeoutS: number;
  /** Read the samples back from D1 and count missing and duplicate ones. */
  lossCheck: boolean;
  /** Seconds the loss check waits for the buffers to flush to D1 before it gives its verdict. */
  settleTimeoutS: number;
  json: boolean;
  quiet: boolean;
  /** WebSocket path relays connect to (the benchmark points it at its ceiling objects). */
  relayPath: string;
  /** Prefix of the generated user ids, so that runs never see each other's samples. */
  userPrefix: string;
  /** Replay a recording as one relay of one user instead of generating load (absent: generate). */
  replay?: ReplayOptions;
}

export interface ReplayOptions {
  /** Path of the CSV recording (tools/sim/replay-csv.ts describes it). */
  file: string;
  /** Times the recorded speed; null: as fast as acks allow. */
  speed: number | null;
  /** Samples per frame when --samples was given; null: 100 rows' worth, at most HARD_LIMITS.samples. */
  samplesPerFrame: number | null;
  /** --now: times shifted so that the first row is the moment the replay starts (a live demo). */
  now: boolean;
}

/** Hard caps: a typo must not turn a load test into a denial of service against production. */
export const HARD_LIMITS = {
  users: 10_000,
  relays: 10_000,
  consumers: 10_000,
  samples: 10_000, // the default MAX_SAMPLES_PER_FRAME
  sampleBytes: 1_000,
  rate: 1_000_000,
  window: 1_024,
  durationS: 3_600,
  frames: 10_000_000,
  drainTimeoutS: 300,
  settleTimeoutS: 600,
  speed: 1_000_000,
  /** Samples the loss check reads back in one run (memory and D1 read cost). */
  lossCheckSamples: 20_000_000,
} as const;

export const USAGE = `Usage: npm run sim -- [options]

Simulates edge relays and consumers against a Zander Edge deployment (or replays a recording, --replay),
then checks that every acked sample reached D1 exactly once.

  --url URL             deployment base URL (default http://127.0.0.1:8787)
  --secret S            AUTH_SECRET of the deployment (default: $AUTH_SECRET, or .dev.vars for a local URL)
  --users U             users (default 1, max ${HARD_LIMITS.users})
  --relays N            relays in total, round-robin over users (default: one per user, max ${HARD_LIMITS.relays})
  --consumers C         consumers in total, round-robin over users (default 0, max ${HARD_LIMITS.consumers})
  --samples S           samples per frame (default 10, with --replay 100 rows' worth; max ${HARD_LIMITS.samples})
  --sample-bytes B      pad each sample to about B bytes with an extra field the server ignores (default 0:
                        ~40 bytes); 93 with 10,000 samples makes frames of 0.93 MB (max ${HARD_LIMITS.sampleBytes})
  --rate F              target frames/s over all relays; 0 = as fast as acks allow (default 0)
  --window W            unacked frames in flight per relay (default 16, max ${HARD_LIMITS.window})
  --duration SECONDS    stop sending after this long (default 10, max ${HARD_LIMITS.durationS})
  --frames N            stop once every relay sent N frames (default: no limit, max ${HARD_LIMITS.frames})
  --drain-timeout SEC   wait this long for the last acks (default 30)
  --no-loss-check       skip reading the samples back
  --settle-timeout SEC  wait at most this long for the buffers to reach D1 (default 60)
  --json                print the report as JSON on stdout
  --quiet               no live progress on stderr
  --user-prefix P       prefix of the generated user ids, 1-40 of [A-Za-z0-9_.-] (default: sim-<time>, new
                        for every run, so that runs never see each other's samples)
  --relay-path PATH     WebSocket path of the relays (default /v1/relay; the benchmark's ceilings use others)
  -h, --help            this text

Replaying a recording instead (one relay of one user; --users, --relays, --consumers, --rate, --duration and
--frames do not apply):
  --replay FILE.csv     stream FILE: a header row naming the time column and the channels, then one row per
                        time: epoch milliseconds, then a number or nothing per channel; the loss check then
                        wants every value back exactly, at its time and channel
  --speed N|max         N times the recorded speed (default 1), or max: as fast as acks allow
  --now                 shift the file's times so that its first row is now: the live view shows it live

Exit status: 0 when frames were acked and the loss check passed, 1 when samples were missing or duplicated
(or could not be verified), no frame was acked (with --replay: a sample of the file was not acked), or the server
refused a connection (401, 403, ...) or could not be reached (both reported at once), 2 on bad options or a bad
CSV file.`;

export class OptionsError extends Error {
  override name = "OptionsError";
}

/** Every command-line option; the tests check that USAGE lists each one. */
export const CLI_OPTIONS = {
  url: { type: "string", default: "http://127.0.0.1:8787" },
  secret: { type: "string" },
  users: { type: "string", default: "1" },
  relays: { type: "string" },
  consumers: { type: "string", default: "0" },
  samples: { type: "string" },
  "sample-bytes": { type: "string", default: "0" },
  rate: { type: "string", default: "0" },
  window: { type: "string", default: "16" },
  duration: { type: "string", default: "10" },
  frames: { type: "string" },
  "drain-timeout": { type: "string", default: "30" },
  "loss-check": { type: "boolean", default: true },
  "settle-timeout": { type: "string", default: "60" },
  json: { type: "boolean", default: false },
  quiet: { type: "boolean", default: false },
  "relay-path": { type: "string", default: "/v1/relay" },
  "user-prefix": { type: "string" },
  help: { type: "boolean", short: "h", default: false },
  replay: { type: "string" },
  speed: { type: "string" },
  now: { type: "boolean", default: false },
} as const;

/** Options that shape generated load: a replay is one relay of one user, sending the file's frames. */
const LOAD_ONLY = ["users", "relays", "consumers", "rate", "duration", "frames"] as const;

/**
 * Parses command-line arguments into SimOptions. `secretFallback` supplies AUTH_SECRET when --secret is not
 * given (the CLI passes the environment or .dev.vars). Returns "help" when --help was asked for.
 */
export function parseSimArgs(
  argv: string[],
  secretFallback: (url: string) => string | undefined,
): SimOptions | "help" {
  const config = {
    args: argv,
    options: CLI_OPTIONS,
    allowNegative: true,
    strict: true,
    tokens: true,
  } as const;
  let values: ReturnType<typeof parseArgs<typeof config>>["values"];
  let tokens: ReturnType<typeof parseArgs<typeof config>>["tokens"];
  try {
    ({ values, tokens } = parseArgs(config));
  } catch (err) {
    throw new OptionsError((err as Error).message);
  }
  if (values.help) return "help";
  const given = new Set(tokens.flatMap((t) => (t.kind === "option" ? [t.name] : [])));
  const replay = parseReplay(values.replay, values.speed, values.samples, values.now, given);

  const url = parseUrl(values.url);
  const users = int("--users", values.users, 1, HARD_LIMITS.users);
  const relays = int("--relays", values.relays ?? String(users), users, HARD_LIMITS.relays);
  const secret = values.secret ?? secretFallback(url);
  if (!secret) throw new OptionsError("AUTH_SECRET is not set: pass --secret or set AUTH_SECRET.");
  const userPrefix = values["user-prefix"] ?? `sim-${Date.now().toString(36)}`;
  if (!/^[A-Za-z0-9_.-]{1,40}$/.test(userPrefix)) {
    throw new OptionsError(`--user-prefix must be 1-40 of [A-Za-z0-9_.-], got ${JSON.stringify(userPrefix)}`);
  }
  if (!values["relay-path"].startsWith("/")) throw new OptionsError("--relay-path must start with /");
  const options: SimOptions = {
    url,
    secret,
    users,
    relays,
    consumers: int("--consumers", values.consumers, 0, HARD_LIMITS.consumers),
    samples: int("--samples", values.samples ?? "10", 1, HARD_LIMITS.samples),
    sampleBytes: int("--sample-bytes", values["sample-bytes"], 0, HARD_LIMITS.sampleBytes),
    rate: int("--rate", values.rate, 0, HARD_LIMITS.rate),
    window: int("--window", values.window, 1, HARD_LIMITS.window),
    durationS: num("--duration", values.duration, 0.1, HARD_LIMITS.durationS),
    frames: values.frames === undefined ? null : int("--frames", values.frames, 1, HARD_LIMITS.frames),
    drainTimeoutS: num("--drain-timeout", values["drain-timeout"], 0, HARD_LIMITS.drainTimeoutS),
    lossCheck: values["loss-check"],
    settleTimeoutS: num("--settle-timeout", values["settle-timeout"], 0, HARD_LIMITS.settleTimeoutS),
    json: values.json,
    quiet: values.quiet,
    relayPath: values["relay-path"],
    userPrefix,
  };
  if (replay) options.replay = replay;
  checkLossCheckBudget(options);
  return options;
}

function parseReplay(
  file: string | undefined,
  speed: string | undefined,
  samples: string | undefined,
  now: boolean,
  given: ReadonlySet<string>,
): ReplayOptions | undefined {
  if (file === undefined) {
    if (speed !== undefined) throw new OptionsError("--speed is for --replay");
    if (now) throw new OptionsError("--now is for --replay");
    return undefined;
  }
  if (file.trim() === "") throw new OptionsError("--replay needs the path of a CSV file");
  const loadOnly = LOAD_ONLY.find((name) => given.has(name));
  if (loadOnly) {
    throw new OptionsError(`--${loadOnly} does not apply to --replay (a replay is one relay of one user)`);
  }
  return {
    file,
    speed: speed === "max" ? null : num("--speed", speed ?? "1", 0.001, HARD_LIMITS.speed, "or max"),
    samplesPerFrame: samples === undefined ? null : int("--samples", samples, 1, HARD_LIMITS.samples),
    now,
  };
}

/** The loss check keeps every acked sample's identity in memory: refuse runs it cannot verify. */
export function checkLossCheckBudget(options: SimOptions): void {
  if (!options.lossCheck || options.frames === null) return;
  const samples = options.relays * options.frames * options.samples;
  if (samples > HARD_LIMITS.lossCheckSamples) {
    throw new OptionsError(
      `--relays x --frames x --samples = ${samples} samples is more than the loss check reads back ` +
        `(${HARD_LIMITS.lossCheckSamples}); lower them or pass --no-loss-check`,
    );
  }
}

function parseUrl(raw: string): string {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new OptionsError(`--url must be an http(s) URL, got ${JSON.stringify(raw)}`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new OptionsError(`--url must be an http(s) URL, got ${JSON.stringify(raw)}`);
  }
  return parsed.origin;
}

function num(name: string, raw: string, min: number, max: number, orElse = ""): number {
  const value = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(value) || value < min || value > max) {
    throw new OptionsError(
      `${name} must be a number from ${min} to ${max}${orElse ? ` ${orElse}` : ""}, got ${JSON.stringify(raw)}`,
    );
  }
  return value;
}

function int(name: string, raw: string, min: number, max: number): number {
  const value = Number(raw);
  if (raw.trim() === "" || !Number.isInteger(value) || value < min || value > max) {
    throw new OptionsError(
      `${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`,
    );
  }
  return value;
}
