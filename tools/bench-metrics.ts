// Benchmark of the metrics pipeline's CPU cost, printed (not asserted):
//   1. rendering /metrics: merging the shards' states and serializing Prometheus text, at 1k and 10k series;
//   2. recording: what the user object's metric calls for one ingested `samples` frame cost, next to parsing and
//      validating that frame (the cheapest part of ingesting it: no storage, no ack).
// Run: `node tools/bench-metrics.ts` (Node 22). `benchRender()` and `benchRecording()` are exported for
// `npm run bench`. Measured in Node, not workerd: inside workerd the clocks only advance across I/O.
import "./lib/src-imports.ts";
import { parseArgs } from "node:util";

const { mergeShardStates } = await import("../src/metrics/expose/merge.ts");
const { renderPrometheusText } = await import("../src/metrics/expose/render.ts");
const { ObjectMetrics } = await import("../src/metrics/record/object-metrics.ts");
const { DURATION_BUCKETS_S } = await import("../src/metrics/catalogue.ts");
const { parseClientFrame } = await import("../src/protocol/parse-frame.ts");
type ShardState = import("../src/metrics/wire.ts").ShardState;

export interface RenderFigure {
  series: number;
  lines: number;
  bytes: number;
  p50Ms: number;
  maxMs: number;
}

/**
 * Shard states holding `series` series in all (90% counters with a per-user label, 10% histograms, 4 shards),
 * merged and rendered `runs` times.
 */
export function benchRender(sizes = [1_000, 10_000], runs = 9): RenderFigure[] {
  return sizes.map((series) => {
    const states: ShardState[] = Array.from({ length: 4 }, () => ({
      counters: [],
      histograms: [],
      gauges: [],
      countingSince: 0,
    }));
    for (let i = 0; i < series; i++) {
      const state = states[i % 4] as ShardState;
      if (i % 10 === 9) {
        state.histograms.push({
          name: "http_request_duration_seconds",
          labels: { method: "GET", route: `/route/${i}` },
          boundaries: [...DURATION_BUCKETS_S],
          counts: DURATION_BUCKETS_S.map((_, j) => j).concat([1]),
          sum: i / 7,
          count: 100,
        });
      } else {
        state.counters.push({
          name: "messages_received",
          labels: { message_type: "samples", user_id: `user-${i}` },
          value: i * 3,
        });
      }
    }
    const times: number[] = [];
    let text = "";
    for (let r = 0; r < runs; r++) {
      const started = performance.now();
      text = renderPrometheusText(mergeShardStates(states, 100));
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    return {
      series,
      lines: text.split("\n").filter((l) => l && !l.startsWith("#")).length,
      bytes: text.length,
      p50Ms: times[Math.floor(runs / 2)] as number,
      maxMs: times[runs - 1] as number,
    };
  });
}

export interface RecordingFigure {
  frames: number;
  /** Parsing and validating one 10-sample frame (µs). */
  parseUs: number;
  /** The metric calls the user object makes for that frame, plus a collect every 100 frames (µs). */
  metricsUs: number;
  percentOfParse: number;
}

/** Records what src/../user-stream.ts records per accepted frame, against parsing the same frame. */
export async function benchRecording(frames = 200_000): Promise<RecordingFigure> {
  const idle = {
    userId: "bench",
    relayConnections: 1,
    consumerConnections: 1,
    bufferSize: 0,
    bufferCapacity: 10_000,
    activeSessions: 1,
    pendingWrites: { samples: 0, sessions: 0 },
  };
  const metrics = new ObjectMetrics({} as never, "bench", () => idle);
  const m = metrics.instruments;
  const frame = JSON.stringify({
    type: "samples",
    relay_id: "r1",
    session_id: "s1",
    seq: 1,
    samples: Array.from({ length: 10 }, (_, i) => ({ t: 1_763_700_000_000 + i, ch: "hr", v: i })),
  });
  const limits = { maxFrameBytes: 1_048_576, maxSamplesPerFrame: 10_000 };

  let started = performance.now();
  for (let i = 0; i < frames; i++) parseClientFrame(frame, limits);
  const parseUs = ((performance.now() - started) * 1000) / frames;

  const internals = metrics as unknown as {
    buffer: { drain(): void };
    recorder: { collect(): Promise<unknown> };
  };
  started = performance.now();
  for (let i = 0; i < frames; i++) {
    m.wsMessagesReceived.add(1, { message_type: "samples" });
    m.messagesReceived.add(1, { message_type: "samples", user_id: "bench" });
    m.messagesProcessed.add(1, { message_type: "samples" });
    m.wsMessagesSent.add(1, { message_type: "ack" });
    m.wsMessagesSent.add(1, { message_type: "samples" });
    m.wsMessageLatency.record(0.002, { message_type: "samples" });
    m.wsMessageLatency.record(0.004, { message_type: "ack" });
    if (i % 100 === 99) {
      internals.buffer.drain();
      await internals.recorder.collect();
    }
  }
  const metricsUs = ((performance.now() - started) * 1000) / frames;
  return { frames, parseUs, metricsUs, percentOfParse: (metricsUs / parseUs) * 100 };
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      sizes: { type: "string", default: "1000,10000" },
      frames: { type: "string", default: "200000" },
    },
  });
  const sizes = String(values.sizes).split(",").map(Number);
  console.log("metrics render (merge 4 shard states + Prometheus serializer), Node", process.version);
  console.log("series   lines     bytes   p50 ms   max ms");
  for (const f of benchRender(sizes)) {
    console.log(
      `${String(f.series).padStart(6)} ${String(f.lines).padStart(7)} ${String(f.bytes).padStart(9)} ${f.p50Ms.toFixed(1).padStart(8)} ${f.maxMs.toFixed(1).padStart(8)}`,
    );
  }
  const r = await benchRecording(Number(values.frames));
  console.log(`\nrecording metrics per ingested frame (${r.frames} frames of 10 samples)`);
  console.log(`parse + validate frame: ${r.parseUs.toFixed(2)} µs`);
  console.log(
    `metric calls + collect: ${r.metricsUs.toFixed(2)} µs (${r.percentOfParse.toFixed(1)} % of parsing alone)`,
  );
}
