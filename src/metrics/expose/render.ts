import { ValueType } from "@opentelemetry/api";
import { PrometheusSerializer } from "@opentelemetry/exporter-prometheus";
import { emptyResource, type Resource } from "@opentelemetry/resources";
import {
  AggregationTemporality,
  DataPointType,
  type MetricData,
  type ResourceMetrics,
} from "@opentelemetry/sdk-metrics";
import { METRICS } from "../catalogue";
import type { Labels } from "../wire";
import type { MergedMetrics } from "./merge";

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

// No prefix, no timestamps, no target_info and no otel_scope_* labels: the names and labels are exactly SPEC §5.
// No instrument has a unit, so there is no unit suffix and no `# UNIT` line (not part of format 0.0.4).
const serializer = new PrometheusSerializer(undefined, false, undefined, true, true);
const NO_TIME: [number, number] = [0, 0];

/** Renders merged metrics as Prometheus text 0.0.4 with the OpenTelemetry serializer (counters get `_total`). */
export function renderPrometheusText(merged: MergedMetrics): string {
  return serializer.serialize(toResourceMetrics(merged));
}

/** Times and resource of an OTLP push; a scrape has neither (the scraper stamps the samples). */
export interface PointContext {
  resource: Resource;
  startTime: [number, number];
  time: [number, number];
  /** Leave out metrics that have no series yet (an OTLP receiver gains nothing from them). */
  withoutEmpty: boolean;
}

const SCRAPE_CONTEXT: PointContext = {
  resource: emptyResource(),
  startTime: NO_TIME,
  time: NO_TIME,
  withoutEmpty: false,
};

/** The merged state as OpenTelemetry metric data (cumulative), one metric per name, sorted for stable output. */
export function toResourceMetrics(merged: MergedMetrics, context = SCRAPE_CONTEXT): ResourceMetrics {
  const point = <T>(attributes: Labels, value: T) => ({
    startTime: context.startTime,
    endTime: context.time,
    attributes,
    value,
  });
  const counters = byName(merged.counters);
  const gauges = byName(merged.gauges);
  const histograms = byName(merged.histograms);
  // Every catalogue metric is rendered, with HELP and TYPE even while it has no series yet.
  const names = [
    ...new Set([...Object.keys(METRICS), ...counters.keys(), ...gauges.keys(), ...histograms.keys()]),
  ];
  const metrics: MetricData[] = [];
  for (const name of names.sort()) {
    const kind =
      METRICS[name]?.kind ?? (histograms.has(name) ? "histogram" : counters.has(name) ? "counter" : "gauge");
    const descriptor = {
      name,
      description: METRICS[name]?.help ?? "",
      unit: "",
      valueType: ValueType.DOUBLE,
    };
    if (kind === "counter") {
      metrics.push({
        descriptor,
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.SUM,
        isMonotonic: true,
        dataPoints: (counters.get(name) ?? []).map((p) => point(p.labels, p.value)),
      });
    } else if (kind === "gauge") {
      metrics.push({
        descriptor,
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.GAUGE,
        dataPoints: (gauges.get(name) ?? []).map((p) => point(p.labels, p.value)),
      });
    } else {
      metrics.push({
        descriptor,
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.HISTOGRAM,
        dataPoints: (histograms.get(name) ?? []).map((p) =>
          point(p.labels, {
            buckets: { boundaries: p.boundaries, counts: p.counts },
            sum: p.sum,
            count: p.count,
          }),
        ),
      });
    }
  }
  return {
    resource: context.resource,
    scopeMetrics: [
      {
        scope: { name: "zander-edge" },
        metrics: context.withoutEmpty ? metrics.filter((m) => m.dataPoints.length > 0) : metrics,
      },
    ],
  };
}

/** One Prometheus sample: `__name__` and labels as Prometheus sees them after a scrape of renderPrometheusText. */
export interface PromSample {
  labels: Labels;
  value: number;
}

/** The same series renderPrometheusText exposes, as samples (for remote-write), named as the serializer names them. */
export function toPromSamples(merged: MergedMetrics): PromSample[] {
  const out: PromSample[] = [];
  for (const c of merged.counters)
    out.push({ labels: { ...c.labels, __name__: `${c.name}_total` }, value: c.value });
  for (const g of merged.gauges) out.push({ labels: { ...g.labels, __name__: g.name }, value: g.value });
  for (const h of merged.histograms) {
    out.push({ labels: { ...h.labels, __name__: `${h.name}_count` }, value: h.count });
    out.push({ labels: { ...h.labels, __name__: `${h.name}_sum` }, value: h.sum });
    let cumulative = 0;
    h.counts.forEach((count, i) => {
      cumulative += count;
      const bound = h.boundaries[i];
      const le = bound === undefined ? "+Inf" : String(bound);
      out.push({ labels: { ...h.labels, le, __name__: `${h.name}_bucket` }, value: cumulative });
    });
  }
  return out;
}

/** The points grouped by metric name, in the order they come (mergeShardStates sorts them by series key). */
function byName<T extends { name: string }>(points: T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const p of points) {
    const group = groups.get(p.name);
    if (group) group.push(p);
    else groups.set(p.name, [p]);
  }
  return groups;
}
