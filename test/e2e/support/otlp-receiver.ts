import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import protobuf from "protobufjs";

/** The published OTLP definitions (the subset the push uses), decoded by protobufjs: not the encoder's code. */
const PROTO = fileURLToPath(new URL("../fixtures/otlp-metrics-subset.proto", import.meta.url));
const REQUEST_TYPE = "opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest";

export interface DecodedKeyValue {
  key: string;
  value: { stringValue?: string; boolValue?: boolean; intValue?: string; doubleValue?: number };
}
export interface DecodedNumberPoint {
  attributes: DecodedKeyValue[];
  startTimeUnixNano: string;
  timeUnixNano: string;
  asDouble?: number;
  asInt?: string;
}
export interface DecodedHistogramPoint {
  attributes: DecodedKeyValue[];
  startTimeUnixNano: string;
  timeUnixNano: string;
  count: string;
  sum?: number;
  bucketCounts: string[];
  explicitBounds: number[];
}
export interface DecodedMetric {
  name: string;
  description: string;
  unit: string;
  gauge?: { dataPoints: DecodedNumberPoint[] };
  sum?: { dataPoints: DecodedNumberPoint[]; aggregationTemporality: string; isMonotonic: boolean };
  histogram?: { dataPoints: DecodedHistogramPoint[]; aggregationTemporality: string };
}
export interface DecodedRequest {
  resourceMetrics: {
    resource: { attributes: DecodedKeyValue[] };
    scopeMetrics: { scope: { name: string }; metrics: DecodedMetric[] }[];
  }[];
}

export interface OtlpPush {
  path: string;
  headers: IncomingHttpHeaders;
  status: number;
  /** Raw body size as sent (before gunzip). */
  bytes: number;
  request?: DecodedRequest;
  decodeError?: string;
}

export interface OtlpReceiver {
  pushes: OtlpPush[];
  close(): Promise<void>;
}

/**
 * A local OTLP/HTTP receiver: gunzips, decodes each ExportMetricsServiceRequest with protobufjs and records it.
 * Answers the first `failFirst` requests 503 (so that retries and failure counting show), then 200 with an empty
 * ExportMetricsServiceResponse, as an OTLP gateway does.
 */
export async function startOtlpReceiver(port: number, failFirst: number): Promise<OtlpReceiver> {
  const root = await protobuf.load(PROTO);
  const requestType = root.lookupType(REQUEST_TYPE);
  const pushes: OtlpPush[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const push: OtlpPush = { path: req.url ?? "", headers: req.headers, status: 200, bytes: raw.length };
      try {
        const body = req.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw;
        push.request = requestType.toObject(requestType.decode(body), {
          longs: String,
          enums: String,
          defaults: true,
          arrays: true,
        }) as DecodedRequest;
      } catch (err) {
        push.decodeError = String(err);
        push.status = 400;
      }
      if (pushes.length < failFirst) push.status = 503;
      pushes.push(push);
      res.writeHead(push.status, { "content-type": "application/x-protobuf" }).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  return {
    pushes,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Attribute list as a plain label map (every attribute the push sends is a string). */
export function attributeMap(attributes: DecodedKeyValue[]): Record<string, string> {
  return Object.fromEntries(attributes.map((a) => [a.key, a.value.stringValue ?? String(a.value)]));
}

/**
 * The Prometheus samples an OTLP receiver (Prometheus, Mimir) derives from one request, keyed like a scrape's
 * series (`name{labels}` with labels sorted): monotonic sums get `_total`, histograms become `_bucket` (cumulative,
 * with `le`), `_sum` and `_count`, gauges keep their name.
 */
export function prometheusSamples(request: DecodedRequest): Map<string, number> {
  const out = new Map<string, number>();
  const put = (name: string, labels: Record<string, string>, value: number) =>
    out.set(seriesId(name, labels), value);
  for (const rm of request.resourceMetrics) {
    for (const sm of rm.scopeMetrics) {
      for (const m of sm.metrics) {
        if (m.sum) {
          const name = m.sum.isMonotonic && !m.name.endsWith("_total") ? `${m.name}_total` : m.name;
          for (const p of m.sum.dataPoints) put(name, attributeMap(p.attributes), numberValue(p));
        } else if (m.gauge) {
          for (const p of m.gauge.dataPoints) put(m.name, attributeMap(p.attributes), numberValue(p));
        } else if (m.histogram) {
          for (const p of m.histogram.dataPoints) {
            const labels = attributeMap(p.attributes);
            let cumulative = 0;
            p.bucketCounts.forEach((count, i) => {
              cumulative += Number(count);
              const bound = p.explicitBounds[i];
              put(
                `${m.name}_bucket`,
                { ...labels, le: bound === undefined ? "+Inf" : String(bound) },
                cumulative,
              );
            });
            put(`${m.name}_sum`, labels, p.sum ?? Number.NaN);
            put(`${m.name}_count`, labels, Number(p.count));
          }
        }
      }
    }
  }
  return out;
}

function numberValue(p: DecodedNumberPoint): number {
  return p.asDouble ?? Number(p.asInt);
}

/** `name{a="1",b="2"}` with labels sorted by name: one spelling for a scrape's and a push's series. */
export function seriesId(name: string, labels: Record<string, string>): string {
  const keys = Object.keys(labels).sort();
  return keys.length === 0 ? name : `${name}{${keys.map((k) => `${k}="${labels[k]}"`).join(",")}}`;
}

/** A scrape's sample key (`name{b="2",a="1"}` in exposition order) in seriesId's spelling. */
export function scrapedSeriesId(key: string): string {
  const brace = key.indexOf("{");
  if (brace < 0) return key;
  const labels: Record<string, string> = {};
  for (const m of key.slice(brace + 1, -1).matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
    labels[m[1] as string] = m[2] as string;
  }
  return seriesId(key.slice(0, brace), labels);
}
