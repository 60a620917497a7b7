import type { CellResult } from "./cells.ts";
import type { FleetResult, FleetSpec } from "./fleet.ts";
import type { Machine } from "./machine.ts";
import type { RenderResult } from "./metrics-render.ts";
import { type BenchPlan, type OperatorCell, TARGETS } from "./plan.ts";
import type { StorageResult } from "./storage.ts";
import type { UsersCost } from "./users-cost.ts";

/** One row of the matrix: the same load against both ceilings and the full pipeline. */
export interface MatrixRow {
  samples: number;
  relays: number;
  parse: CellResult;
  sqlite: CellResult;
  pipeline: CellResult;
  /** The same load on tools/bench/peer/node-peer.ts. */
  peer: CellResult;
}

export interface BenchResults {
  startedAt: string;
  machine: Machine;
  plan: BenchPlan;
  matrix: MatrixRow[];
  halfLoad: CellResult;
  fanout: CellResult;
  users: UsersCost[];
  metrics: RenderResult[];
  storage: StorageResult;
  /** The chunk codec's size and speed table (chunk-size.ts), or null when the plan skips it. */
  chunkSizes: string | null;
  operator: OperatorResult[];
  overload: CellResult;
  /** The fleet cell (fleet.ts), or null when the plan skips it. */
  fleet: FleetOutcome | null;
}

/** The fleet cell's figures, or why it did not complete (a local runtime has limits a deployment does not). */
export interface FleetOutcome {
  spec: FleetSpec;
  result: FleetResult | null;
  failure: string | null;
}

/** One operator load on one configuration: "default" is wrangler.toml's, "tuned" has BUFFER_CAPACITY 1,000,000. */
export interface OperatorResult {
  cell: OperatorCell;
  config: "default" | "tuned";
  result: CellResult;
}

export interface TargetCheck {
  name: string;
  target: string;
  measured: string;
  met: boolean;
  /** Where BENCHMARKS.md explains a miss: a hand-written section and its bold-led point. */
  explained: { section: (typeof EXPLAINING_SECTIONS)[number]; point: string };
}

/** The hand-written sections of BENCHMARKS.md that say what bounds each figure on this machine. */
export const EXPLAINING_SECTIONS = ["What bounds the figures", "Storage: what the figures say"] as const;
const [BOUNDS, STORAGE] = EXPLAINING_SECTIONS;

export function ratio(a: number, b: number): number {
  return b > 0 ? a / b : 0;
}

/** Compares the figures with the targets of this machine class (reported, not asserted). */
export function checkTargets(r: BenchResults): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const at100 = r.matrix.filter((row) => row.samples === 100);
  const best100 = at100.reduce<MatrixRow | undefined>(
    (best, row) => (!best || row.pipeline.samplesPerS > best.pipeline.samplesPerS ? row : best),
    undefined,
  );
  if (best100) {
    const p = best100.pipeline.samplesPerS;
    const where = `(100 samples/frame, ${best100.relays} relays)`;
    checks.push({
      name: "samples/s durably acked at 100 samples/frame",
      target: `≥ ${TARGETS.samplesPerSAt100.toLocaleString("en-US")}`,
      measured: `${p.toLocaleString("en-US")} ${where}`,
      met: p >= TARGETS.samplesPerSAt100,
      explained: { section: BOUNDS, point: "100 samples per frame" },
    });
    checks.push({
      name: "above the one-commit-per-frame ceiling",
      target: "> 100 % of SQLite ceiling",
      measured: `${pct(ratio(p, best100.sqlite.samplesPerS))} ${where}`,
      met: p > best100.sqlite.samplesPerS,
      explained: { section: BOUNDS, point: "100 samples per frame" },
    });
    checks.push({
      name: "share of the parse-only ceiling",
      target: `≥ ${pct(TARGETS.shareOfParseCeiling)}`,
      measured: `${pct(ratio(p, best100.parse.samplesPerS))} ${where}`,
      met: ratio(p, best100.parse.samplesPerS) >= TARGETS.shareOfParseCeiling,
      explained: { section: BOUNDS, point: "100 samples per frame" },
    });
  }
  if (r.matrix.length) {
    const worst = r.matrix.reduce((a, b) =>
      ratio(b.pipeline.samplesPerS, b.peer.samplesPerS) < ratio(a.pipeline.samplesPerS, a.peer.samplesPerS)
        ? b
        : a,
    );
    const least = ratio(worst.pipeline.samplesPerS, worst.peer.samplesPerS);
    checks.push({
      name: "against a hand-written Node.js server (ws + SQLite WAL, a transaction per frame)",
      target: `≥ ${TARGETS.timesPeer}× in every cell`,
      measured: `${least.toFixed(2)}× at least (${worst.samples} samples/frame, ${worst.relays} relays)`,
      met: least >= TARGETS.timesPeer,
      explained: { section: BOUNDS, point: "The Node peer" },
    });
  }
  const at1 = r.matrix.filter((row) => row.samples === 1);
  if (at1.length) {
    const best = Math.max(...at1.map((row) => row.pipeline.framesPerS));
    checks.push({
      name: "frames/s acked at 1 sample/frame",
      target: `≥ ${TARGETS.framesPerSAt1.toLocaleString("en-US")}`,
      measured: best.toLocaleString("en-US"),
      met: best >= TARGETS.framesPerSAt1,
      explained: { section: BOUNDS, point: "1 sample per frame" },
    });
  }
  checks.push({
    name: `p99 ack latency at half load (${r.plan.halfLoad.framesPerS * r.plan.halfLoad.samples} samples/s)`,
    target: `< ${TARGETS.ackP99Ms} ms`,
    measured: `${ms(r.halfLoad.ackMs.p99)} (${r.halfLoad.samplesPerS.toLocaleString("en-US")} samples/s reached)`,
    met: r.halfLoad.ackMs.p99 < TARGETS.ackP99Ms && r.halfLoad.ackMs.count > 0,
    explained: { section: BOUNDS, point: "Latency" },
  });
  checks.push({
    name: "p99 consumer fan-out latency at half load",
    target: `< ${TARGETS.fanoutP99Ms} ms`,
    measured: ms(r.fanout.fanoutMs.p99),
    met: r.fanout.fanoutMs.p99 < TARGETS.fanoutP99Ms && r.fanout.fanoutMs.count > 0,
    explained: { section: BOUNDS, point: "Latency" },
  });
  for (const check of storageTargets(r.storage)) checks.push(check);
  const tenUsers = r.users.find((u) => u.users === 10);
  const most = r.users.at(-1);
  if (tenUsers && most && most !== tenUsers) {
    const times = most.usPerSample / tenUsers.usPerSample;
    checks.push({
      name: `server CPU per sample, ${most.users.toLocaleString("en-US")} users against 10 at the same total rate`,
      target: `≤ ${TARGETS.usersCostRatio}×`,
      measured: `${times.toFixed(2)}× (${most.usPerSample} µs against ${tenUsers.usPerSample} µs)`,
      met: times <= TARGETS.usersCostRatio,
      explained: { section: BOUNDS, point: "Users" },
    });
  }
  return checks;
}

/** Issue 11's storage targets, per data shape. */
function storageTargets(storage: StorageResult): TargetCheck[] {
  const chunked = storage.figures.filter((f) => f.layout === "new");
  const sensor = chunked.filter((f) => !f.shape.startsWith("noisy"));
  const maxBytes = Math.max(...sensor.map((f) => f.bytesPerSample));
  const maxRows = Math.max(...chunked.map((f) => f.rowsWrittenPerSample));
  const maxCpu = Math.max(...chunked.map((f) => f.cpuUsPerSample));
  return [
    {
      name: "bytes/sample on disk, integer and decimal data (chunks)",
      target: "≤ 3",
      measured: sensor.map((f) => f.bytesPerSample.toFixed(2)).join(", "),
      met: maxBytes <= 3,
      explained: { section: STORAGE, point: "Bytes on disk" },
    },
    {
      name: `D1 rows written/sample at ${storage.framesSamples} samples/frame`,
      target: "≤ 0.01",
      measured: chunked.map((f) => f.rowsWrittenPerSample.toPrecision(2)).join(", "),
      met: maxRows <= 0.01,
      explained: { section: STORAGE, point: "Rows written" },
    },
    {
      name: "D1 flush server CPU per sample (chunk rows + D1 write)",
      target: "≤ 0.5 µs",
      measured: chunked.map((f) => `${f.cpuUsPerSample} µs`).join(", "),
      met: maxCpu <= 0.5,
      explained: { section: STORAGE, point: "Flush CPU" },
    },
  ];
}

export function pct(x: number): string {
  return `${Math.round(x * 100)} %`;
}

export function ms(x: number): string {
  return Number.isFinite(x) ? `${x.toFixed(1)} ms` : "n/a";
}
