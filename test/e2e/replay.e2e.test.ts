import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localD1Rows } from "../../tools/lib/local-d1.ts";
import { mintToken } from "../../tools/lib/token.ts";
import { startWranglerDev, type WranglerDev } from "../../tools/lib/wrangler-dev.ts";
import { OptionsError, parseSimArgs, type SimOptions, USAGE } from "../../tools/sim/options.ts";
import { readStoredSamples } from "../../tools/sim/read-back.ts";
import { REPLAY_RELAY_ID, runReplay, scanRecording } from "../../tools/sim/replay.ts";
import type { ReplayReport } from "../../tools/sim/replay-report.ts";
import { verifyReplay } from "../../tools/sim/verify-replay.ts";
import { runNpmScript } from "./support/npm-script";

const PORT = 18310;
const SECRET = "e2e-replay-secret-0123456789abcdef";
const T0 = 1_763_700_000_000;

/** `npm run sim -- ARGS` as an operator runs it, with AUTH_SECRET in the environment. */
const runSimCli = (args: string[]) => runNpmScript("sim", args, { ...process.env, AUTH_SECRET: SECRET });

/**
 * A 50 Hz wrist accelerometer as a phone app would export it: 3-decimal axes (gravity on z), a step counter
 * every half second (empty cells between), dropped x readings, two pairs of rows out of order and one row
 * recorded twice. Returns the text and its samples per channel.
 */
function accelerometerCsv(rows = 2_000): { text: string; samples: Record<string, number> } {
  const lines: string[][] = [];
  let steps = 0;
  for (let i = 0; i < rows - 1; i++) {
    const s = i / 50; // seconds
    const x = 0.3 + 0.25 * Math.sin(2 * Math.PI * 1.7 * s) + 0.01 * Math.sin(i * 12.9898);
    const y = -0.98 + 0.1 * Math.cos(2 * Math.PI * 0.9 * s);
    const z = 9.81 + 0.4 * Math.sin(2 * Math.PI * 1.7 * s + 1);
    if (i % 25 === 0) steps += 1 + (i % 3);
    lines.push([
      String(T0 + i * 20),
      i % 97 === 13 ? "" : x.toFixed(3),
      y.toFixed(3),
      z.toFixed(3),
      i % 25 === 0 ? String(steps) : "",
    ]);
  }
  for (const at of [rows / 4, (3 * rows) / 4]) {
    [lines[at], lines[at + 1]] = [lines[at + 1] as string[], lines[at] as string[]];
  }
  lines.splice(rows / 2, 0, [...(lines[rows / 2] as string[])]);
  const channels = ["acc_x", "acc_y", "acc_z", "steps"];
  const samples = Object.fromEntries(
    channels.map((ch, c) => [ch, lines.filter((cells) => cells[c + 1] !== "").length]),
  );
  return { text: `t,${channels.join(",")}\n${lines.map((l) => l.join(",")).join("\n")}\n`, samples };
}

const total = (samples: Record<string, number>) => Object.values(samples).reduce((a, b) => a + b, 0);

/** The README's replay command, as its words. */
function readmeReplayCommand(): string[] {
  const line = readFileSync("README.md", "utf8")
    .split("\n")
    .find((l) => l.startsWith("npm run sim -- ") && l.includes("--replay recording.csv"));
  if (!line) throw new Error("README shows no `npm run sim -- ... --replay` command");
  return line.slice("npm run sim -- ".length).trim().split(/\s+/);
}

describe("npm run sim -- --replay against wrangler dev", () => {
  let server: WranglerDev;
  let dir: string;
  const recording = accelerometerCsv();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "zander-replay-e2e-"));
    writeFileSync(join(dir, "recording.csv"), recording.text);
    // A buffer of two default frames (400 samples each): a replay at full speed meets buffer_full at once.
    server = await startWranglerDev({
      port: PORT,
      vars: {
        AUTH_SECRET: SECRET,
        FLUSH_INTERVAL_MS: "100",
        MAX_SAMPLES_PER_FRAME: "400",
        BUFFER_CAPACITY: "800",
      },
    });
  });

  afterAll(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("replays the README's command as fast as acks allow and finds every sample stored exactly once", async () => {
    const args = readmeReplayCommand().map((word) =>
      word === "recording.csv"
        ? join(dir, "recording.csv")
        : word === "http://127.0.0.1:8787"
          ? server.url
          : word,
    );
    expect(args).toContain(join(dir, "recording.csv"));
    expect(args).toContain(server.url);
    const { code, stdout, stderr } = await runSimCli([...args, "--json"]);
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout) as ReplayReport;
    const samples = total(recording.samples);
    expect(samples).toBeGreaterThan(6_000);
    expect(report.recording).toMatchObject({
      rows: 2_000,
      channels: ["acc_x", "acc_y", "acc_z", "steps"],
      samples,
      spanMs: 1_998 * 20,
    });
    expect(report.config).toMatchObject({ speed: "max", samplesPerFrame: 400 });
    expect(report).toMatchObject({
      ok: true,
      samplesAcked: samples,
      framesRejected: 0,
      unconfirmedFrames: 0,
    });
    expect(report.lossCheck).toMatchObject({
      ok: true,
      settled: true,
      expected: samples,
      stored: samples,
      missing: 0,
      duplicates: 0,
      unexpected: 0,
      unconfirmed: 0,
    });
    // The small buffer refused frames, and the relay resent them after retry_after_ms.
    expect(report.errors.buffer_full).toBeGreaterThan(0);
    expect(report.resends).toBeGreaterThan(0);
    expect(stderr).toMatch(/loss check: \d+ of \d+ acked samples stored/);
  });

  it("streams at the recorded speed times --speed", async () => {
    // 200 rows = 3.96 s of recording; at --speed 4 about one second.
    const short = accelerometerCsv(200);
    const file = join(dir, "short.csv");
    writeFileSync(file, short.text);
    const { code, stdout, stderr } = await runSimCli([
      "--url",
      server.url,
      "--replay",
      file,
      "--speed",
      "4",
      "--samples",
      "40",
    ]);
    expect(code, stderr).toBe(0);
    const elapsed = Number(/frames in ([\d.]+) s/.exec(stdout)?.[1]);
    expect(elapsed).toBeGreaterThanOrEqual(3.96 / 4);
    expect(elapsed).toBeLessThan(3.96 / 4 + 3);
    expect(stdout).toContain(
      `LOSS CHECK   PASSED: ${total(short.samples)} expected, ${total(short.samples)} stored`,
    );
    expect(stdout).toContain("t, ch and v compared exactly");
  });

  it("plays the README's live-view demo (the bundled recording, --now) as if it were happening now", async () => {
    const line = readFileSync("README.md", "utf8")
      .split("\n")
      .find((l) => l.startsWith("npm run sim -- ") && l.includes("--now"));
    expect(line).toBeDefined();
    const startedAt = Date.now();
    // The README's words, against this server and 40 times faster (two minutes of recording in three seconds).
    const args = (line as string).slice("npm run sim -- ".length).trim().split(/\s+/);
    const { code, stdout, stderr } = await runSimCli([
      ...args,
      "--url",
      server.url,
      "--speed",
      "40",
      "--json",
    ]);
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout) as ReplayReport;
    expect(report.recording).toMatchObject({
      channels: ["acc_x", "acc_y", "acc_z"],
      rows: 6_000,
      samples: 18_000,
    });
    expect(report.lossCheck).toMatchObject({ ok: true, stored: 18_000, missing: 0, duplicates: 0 });
    const token = await mintToken({ secret: SECRET, userId: "demo-u0", role: "consumer" });
    const times = (await readStoredSamples(server.url, "demo-u0", token)).map((s) => Number(s.t));
    // Shifted to the moment the replay started: the first row is now, the last two minutes later.
    expect(Math.min(...times)).toBeGreaterThanOrEqual(startedAt);
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThan(119_000);
  });

  it("catches a channel lost from D1, a sample stored twice and a value that was never sent", async () => {
    const file = join(dir, "recording.csv");
    const options = parseSimArgs(
      ["--url", server.url, "--replay", file, "--speed", "max", "--quiet", "--user-prefix", "replay-tamper"],
      () => SECRET,
    ) as SimOptions;
    const replay = options.replay as NonNullable<SimOptions["replay"]>;
    const scan = await scanRecording(file);
    const result = await runReplay(options, replay, scan);
    expect(await verifyReplay(server.url, result, scan.channels, 30)).toMatchObject({ ok: true });

    const user = result.user.userId;
    expect(user).toBe("replay-tamper-u0");
    const steps = (await readStoredSamples(server.url, user, result.user.consumerToken)).find(
      (s) => s.ch === "steps",
    );
    await localD1Rows(
      server.persistTo,
      `DELETE FROM sample_chunks WHERE user_id = '${user}' AND ch = 'acc_x'`,
    );
    // As rows of 0.1's per-sample table, which reads still serve: a copy of a step count, and a count never sent.
    await localD1Rows(
      server.persistTo,
      `INSERT INTO samples (user_id, relay_id, session_id, seq, idx, t, ch, v) VALUES ` +
        `('${user}', '${REPLAY_RELAY_ID}', 'twin', 1, 100000, ${steps?.t}, 'steps', ${steps?.v}), ` +
        `('${user}', '${REPLAY_RELAY_ID}', 'twin', 1, 100001, ${steps?.t}, 'steps', 123456)`,
    );
    const after = await verifyReplay(server.url, result, scan.channels, 10);
    expect(after).toMatchObject({
      ok: false,
      expected: total(recording.samples),
      missing: recording.samples.acc_x,
      duplicates: 1,
      unexpected: 1,
    });
    expect(after.examples.duplicates).toEqual([
      `t=${steps?.t} ch=steps v=${steps?.v} stored 2 times, sent 1`,
    ]);
    expect(after.examples.unexpected).toEqual([`t=${steps?.t} ch=steps v=123456 was never sent`]);
    expect(after.examples.missing[0]).toMatch(/^t=\d+ ch=acc_x v=[\d.]+ \(stored 0 of 1\)$/);
  });

  it("fails with exit status 1 when the server refuses the frames, naming what was not acked", async () => {
    // MAX_SAMPLES_PER_FRAME is 400 here: frames of 500 samples are refused for good (too_large).
    const { code, stdout } = await runSimCli([
      "--url",
      server.url,
      "--replay",
      join(dir, "recording.csv"),
      "--speed",
      "max",
      "--samples",
      "500",
      "--settle-timeout",
      "5",
    ]);
    expect(code).toBe(1);
    expect(stdout).toMatch(/errors {7}\{"too_large":\d+\}, \d+ frames refused for good/);
    // Only a last, shorter frame may pass: most of the file was not acked.
    expect(stdout).toMatch(/FAILED {7}[\d,]+ samples of the file were not acked/);
  });

  it("stops at once, exit status 1, when the server refuses the relay (a wrong secret)", async () => {
    const file = join(dir, "recording.csv");
    const { code, stdout, stderr } = await runNpmScript("sim", ["--url", server.url, "--replay", file], {
      ...process.env,
      AUTH_SECRET: "not-the-secret-0123456789abcdef",
    });
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toContain(
      `relay-sim: the server refused the relay connection to ${server.url}/v1/relay with 401`,
    );
  });

  it("stops at a bad CSV before sending anything, naming the line and column", async () => {
    const lines = recording.text.split("\n");
    lines[1_234] = (lines[1_234] as string).replace(/,(-?[\d.]+),/, ",$1x,"); // acc_x or acc_y gets an x
    const file = join(dir, "bad.csv");
    writeFileSync(file, lines.join("\n"));
    const column = (lines[1_234] as string).split(",").findIndex((cell) => cell.endsWith("x")) + 1;
    const cell = (lines[1_234] as string).split(",")[column - 1];
    const name = ["t", "acc_x", "acc_y", "acc_z", "steps"][column - 1];

    const { code, stdout, stderr } = await runSimCli([
      "--url",
      server.url,
      "--replay",
      file,
      "--user-prefix",
      "replay-bad",
    ]);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toContain(
      `relay-sim: ${file}: line 1235, column ${column} (${name}): "${cell}" is not a finite decimal number`,
    );
    const token = await mintToken({ secret: SECRET, userId: "replay-bad-u0", role: "consumer" });
    expect(await readStoredSamples(server.url, "replay-bad-u0", token)).toEqual([]);

    writeFileSync(file, "t,acc_x\n1763700000000,1\n1763700000020.5,2\n");
    const time = await runSimCli(["--url", server.url, "--replay", file]);
    expect(time.code).toBe(2);
    expect(time.stderr).toContain(
      'line 3, column 1 (t): "1763700000020.5": the time must be whole epoch milliseconds',
    );
  });
});

describe("--replay and --speed options", () => {
  const secret = () => "s3cret";
  const parse = (...argv: string[]) => parseSimArgs(argv, secret) as SimOptions;
  const rejects = (argv: string[], message: string) =>
    expect(() => parseSimArgs(argv, secret)).toThrow(
      expect.objectContaining({ name: OptionsError.name, message }),
    );

  it("replays at the recorded speed with 100 rows per frame unless told otherwise", () => {
    expect(parse("--replay", "rec.csv").replay).toEqual({
      file: "rec.csv",
      speed: 1,
      samplesPerFrame: null,
      now: false,
    });
    expect(parse("--replay", "rec.csv", "--speed", "max", "--samples", "50", "--now").replay).toEqual({
      file: "rec.csv",
      speed: null,
      samplesPerFrame: 50,
      now: true,
    });
    expect(parse("--replay", "rec.csv", "--speed", "0.5").replay?.speed).toBe(0.5);
    expect(parse().replay).toBeUndefined();
  });

  it("refuses a bad speed, --speed without --replay and the options of generated load", () => {
    rejects(
      ["--replay", "a.csv", "--speed", "0"],
      '--speed must be a number from 0.001 to 1000000 or max, got "0"',
    );
    rejects(
      ["--replay", "a.csv", "--speed", "fast"],
      '--speed must be a number from 0.001 to 1000000 or max, got "fast"',
    );
    rejects(["--speed", "2"], "--speed is for --replay");
    rejects(["--now"], "--now is for --replay");
    rejects(["--replay", ""], "--replay needs the path of a CSV file");
    for (const option of ["--users", "--relays", "--consumers", "--rate", "--duration", "--frames"]) {
      rejects(
        ["--replay", "a.csv", option, "1"],
        `${option} does not apply to --replay (a replay is one relay of one user)`,
      );
    }
  });

  it("lists --replay and --speed in --help", () => {
    expect(USAGE).toMatch(/^ {2}--replay FILE\.csv /m);
    expect(USAGE).toMatch(/^ {2}--speed N\|max /m);
  });
});
