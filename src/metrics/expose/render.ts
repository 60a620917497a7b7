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
import { type PromSample, promSamplesOf } from "./prometheus-samples";

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

// No prefix, no timestamps, no target_info and no otel_scope_* labels: the names and labels are exactly the metric catalogue (README, "Metrics").
// No instrument has a unit, so there is no unit suffix and no `# UNIT` line (not part of format 0.0.4).
// Remote-write builds its samples from the same metric data by this serializer's naming rules
// (prometheus-samples.ts, tested against this text), and OTLP sends the instrument names, which receivers name by
// the same OpenTelemetry rules (test/e2e/metrics-otlp.e2e.test.ts compares a push with a scrape).
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

/** The series renderPrometheusText exposes, as samples (for remote-write), with the serializer's names. */
export function toPromSamples(merged: MergedMetrics): PromSample[] {
  return promSamplesOf(toResourceMetrics(merged));
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
