#!/usr/bin/env node
// `npm run sim -- [options]`: load-tests a deployment with simulated relays and consumers, then checks that
// every acked sample reached D1 exactly once. `npm run sim -- --help` lists the options.
import { existsSync, readFileSync } from "node:fs";
import { ConnectionRefusedError } from "./sim/connection-refusal.ts";
import { OptionsError, parseSimArgs, USAGE } from "./sim/options.ts";
import { buildReport, formatReport, ProgressLine } from "./sim/report.ts";
import { runLoad } from "./sim/run.ts";
import { verifyStored } from "./sim/verify-stored.ts";

/** AUTH_SECRET from the environment; for a local URL also from .dev.vars (what `npm start` uses). */
function secretFor(url: string): string | undefined {
  if (process.env.AUTH_SECRET) return process.env.AUTH_SECRET;
  const host = new URL(url).hostname;
  if ((host === "127.0.0.1" || host === "localhost") && existsSync(".dev.vars")) {
    const line = readFileSync(".dev.vars", "utf8")
      .split("\n")
      .find((l) => l.startsWith("AUTH_SECRET="));
    return line?.slice("AUTH_SECRET=".length).trim() || undefined;
  }
  return undefined;
}

let options: ReturnType<typeof parseSimArgs>;
try {
  options = parseSimArgs(process.argv.slice(2), secretFor);
} catch (err) {
  if (!(err instanceof OptionsError)) throw err;
  console.error(`relay-sim: ${err.message}\n\n${USAGE}`);
  process.exit(2);
}
if (options === "help") {
  console.log(USAGE);
  process.exit(0);
}

const live = !options.quiet;
const tty = process.stderr.isTTY;
const progress = new ProgressLine();
const status = (text: string) => {
  if (!live) return;
  if (tty) process.stderr.write(`\r\x1b[2K${text}`);
  else process.stderr.write(`${text}\n`);
};

let load: Awaited<ReturnType<typeof runLoad>>;
try {
  load = await runLoad(options, (stats, elapsedMs) => status(progress.line(stats, elapsedMs)));
} catch (err) {
  if (!(err instanceof ConnectionRefusedError)) throw err;
  if (tty && live) process.stderr.write("\n");
  console.error(`relay-sim: ${err.message}`);
  process.exit(1);
}
if (tty && live) process.stderr.write("\n");

let verdict = null;
if (options.lossCheck) {
  status("loss check: reading the samples back from D1 ...");
  try {
    verdict = await verifyStored(options.url, load, options.settleTimeoutS, (r) =>
      status(`loss check: ${r.stored} of ${r.expected} acked samples stored, ${r.missing} missing`),
    );
  } catch (err) {
    if (tty && live) process.stderr.write("\n");
    console.error(`relay-sim: the loss check could not read the samples back: ${(err as Error).message}`);
    process.exit(1);
  }
  if (tty && live) process.stderr.write("\n");
}

const report = buildReport(options, load, verdict);
console.log(options.json ? JSON.stringify(report, null, 2) : formatReport(report));
process.exit(report.ok ? 0 : 1);
