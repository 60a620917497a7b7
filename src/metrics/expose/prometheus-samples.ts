import { DataPointType, type ResourceMetrics } from "@opentelemetry/sdk-metrics";
import type { Labels } from "../wire";

/** One Prometheus sample: `__name__` and labels as Prometheus sees them after a scrape of /metrics. */
export interface PromSample {
  labels: Labels;
  value: number;
  /** A staleness marker (remote-write only): the series ended; `value` is ignored. */
  stale?: true;
}

/**
 * The samples a scrape of /metrics gives, built from the metric data by the naming rules of OpenTelemetry's
 * Prometheus serializer, which writes /metrics (render.ts; no prefix, scope or target info): names and label names
 * sanitized, counters `_total`, histograms `_count`, `_sum` and cumulative `_bucket`s with `le`. Remote-write sends
 * these, so a series has one name however it is read; the test checks them against the serializer's own text.
 */
export function promSamplesOf(metrics: ResourceMetrics): PromSample[] {
  const out: PromSample[] = [];
  for (const { metrics: list } of metrics.scopeMetrics) {
    for (const metric of list) {
      let name = prometheusName(metric.descriptor.name);
      if (metric.dataPointType === DataPointType.SUM && metric.isMonotonic && !name.endsWith("_total")) {
        name += "_total";
      }
      for (const point of metric.dataPoints) {
        const labels = labelsOf(point.attributes as Labels);
        if (metric.dataPointType !== DataPointType.HISTOGRAM) {
          out.push({ labels: { __name__: name, ...labels }, value: point.value as number });
          continue;
        }
        const { count, sum, buckets } = point.value as Histogram;
        out.push({ labels: { __name__: `${name}_count`, ...labels }, value: count });
        if (sum !== undefined) out.push({ labels: { __name__: `${name}_sum`, ...labels }, value: sum });
        let cumulative = 0;
        for (const [i, n] of buckets.counts.entries()) {
          cumulative += n;
          const bound = buckets.boundaries[i];
          const le = bound === undefined || bound === Number.POSITIVE_INFINITY ? "+Inf" : String(bound);
          out.push({ labels: { __name__: `${name}_bucket`, ...labels, le }, value: cumulative });
          if (le === "+Inf") break;
        }
      }
    }
  }
  return out;
}

interface Histogram {
  count: number;
  sum?: number;
  buckets: { boundaries: number[]; counts: number[] };
}

/** Characters Prometheus does not allow become `_`, runs of `_` one (the serializer's rule for both names). */
const sanitized = (name: string) => name.replace(/[^a-z0-9_]/gi, "_").replace(/_{2,}/g, "_");

function prometheusName(name: string): string {
  const clean = sanitized(name);
  return /^[0-9]/.test(clean) ? `_${clean}` : clean;
}

function labelsOf(attributes: Labels): Labels {
  const out: Labels = {};
  for (const [key, value] of Object.entries(attributes)) out[sanitized(key)] = value;
  return out;
}
