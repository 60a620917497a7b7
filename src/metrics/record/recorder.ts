import type { Attributes, Meter } from "@opentelemetry/api";
import {
  AggregationTemporality,
  DataPointType,
  type Histogram,
  InstrumentType,
  MeterProvider,
  MetricReader,
} from "@opentelemetry/sdk-metrics";
import type { CounterPoint, GaugePoint, HistogramPoint, Labels } from "../wire";

/**
 * A reader that is only ever collected explicitly: counters and histograms in DELTA temporality (each collect
 * answers what was recorded since the previous one), up-down counters CUMULATIVE (their current value is a
 * gauge). No PeriodicExportingMetricReader: it cannot be created at module scope in workerd and its timer
 * would keep a Durable Object from hibernating; the owner collects from its alarm or per request instead.
 */
class ExplicitDeltaReader extends MetricReader {
  constructor() {
    super({
      aggregationTemporalitySelector: (type) =>
        type === InstrumentType.UP_DOWN_COUNTER || type === InstrumentType.OBSERVABLE_UP_DOWN_COUNTER
          ? AggregationTemporality.CUMULATIVE
          : AggregationTemporality.DELTA,
    });
  }
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

interface CollectedDeltas {
  counters: CounterPoint[];
  histograms: HistogramPoint[];
  /** Current values of up-down counters (absolute). */
  gauges: GaugePoint[];
}

/** One recording context (a user object, a Worker isolate): an OpenTelemetry MeterProvider read explicitly. */
export class MetricsRecorder {
  readonly meter: Meter;
  private readonly reader = new ExplicitDeltaReader();
  private readonly provider: MeterProvider;

  constructor(scope = "zander-edge") {
    this.provider = new MeterProvider({ readers: [this.reader] });
    this.meter = this.provider.getMeter(scope);
  }

  /** What was recorded since the previous collect (zero deltas left out). */
  async collect(): Promise<CollectedDeltas> {
    const { resourceMetrics, errors } = await this.reader.collect();
    if (errors.length > 0) console.error("metrics collect errors", errors);
    const out: CollectedDeltas = { counters: [], histograms: [], gauges: [] };
    for (const scope of resourceMetrics.scopeMetrics) {
      for (const metric of scope.metrics) {
        const name = metric.descriptor.name;
        if (metric.dataPointType === DataPointType.SUM) {
          for (const dp of metric.dataPoints) {
            const point = { name, labels: toLabels(dp.attributes), value: dp.value };
            if (!metric.isMonotonic) out.gauges.push(point);
            else if (dp.value !== 0) out.counters.push(point);
          }
        } else if (metric.dataPointType === DataPointType.HISTOGRAM) {
          for (const dp of metric.dataPoints) {
            const h: Histogram = dp.value;
            if (h.count === 0) continue;
            out.histograms.push({
              name,
              labels: toLabels(dp.attributes),
              boundaries: [...h.buckets.boundaries],
              counts: [...h.buckets.counts],
              sum: h.sum ?? 0,
              count: h.count,
            });
          }
        }
      }
    }
    return out;
  }
}

function toLabels(attributes: Attributes): Labels {
  const labels: Labels = {};
  for (const [k, v] of Object.entries(attributes)) labels[k] = typeof v === "string" ? v : String(v);
  return labels;
}
