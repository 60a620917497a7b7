import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LATENCY_BUCKETS_S, METRICS } from "../catalogue";
import type { Labels } from "../wire";
import type { MergedMetrics } from "./merge";
import type { PromSample } from "./prometheus-samples";
import { renderPrometheusText, toPromSamples } from "./render";

/**
 * An independent reader of the serializer's text (`name{label="value",...} value` lines, values escaped as `\\`,
 * `\"`, `\n`): what a scrape of /metrics gives, to hold remote-write's samples against.
 */
function samplesFromText(text: string): PromSample[] {
  const out: PromSample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const nameEnd = line.search(/[{ ]/);
    if (nameEnd <= 0) throw new Error(`not a sample line: ${line}`);
    const labels: Labels = { __name__: line.slice(0, nameEnd) };
    let at = nameEnd;
    if (line[at] === "{") {
      at++;
      while (line[at] !== "}") {
        const eq = line.indexOf('="', at);
        if (eq < 0) throw new Error(`bad labels in: ${line}`);
        const name = line.slice(at, eq);
        let value = "";
        for (at = eq + 2; line[at] !== '"'; at++) {
          if (at >= line.length) throw new Error(`unterminated label value in: ${line}`);
          if (line[at] === "\\") {
            at++;
            value += line[at] === "n" ? "\n" : line[at];
          } else value += line[at];
        }
        labels[name] = value;
        at++; // closing quote
        if (line[at] === ",") at++;
      }
      at++; // closing brace
    }
    const text = line.slice(at).trim();
    const value =
      text === "+Inf" ? Number.POSITIVE_INFINITY : text === "-Inf" ? Number.NEGATIVE_INFINITY : Number(text);
    if (text === "" || (Number.isNaN(value) && text !== "NaN"))
      throw new Error(`not a sample value: ${text}`);
    out.push({ labels, value });
  }
  return out;
}

const names = (kind: string) => Object.keys(METRICS).filter((n) => METRICS[n]?.kind === kind);
const labelValue = fc.oneof(
  fc.constantFrom("", "a\\b", 'say "hi"', "line\nbreak", "/v1/users/:user_id"),
  fc.string(),
);
const labels = fc.dictionary(
  fc.constantFrom("user_id", "route", "job", "status", "le_x", "Op", "http.route", "a--b"),
  labelValue,
  {
    maxKeys: 3,
  },
);
const value = fc.oneof(fc.double({ noNaN: true }), fc.integer({ min: 0, max: 1e9 }), fc.constant(-0));

/** Merged metrics as the shards give them: catalogue names, any labels and values, buckets of the catalogue. */
const merged: fc.Arbitrary<MergedMetrics> = fc.record({
  counters: fc.array(fc.record({ name: fc.constantFrom(...names("counter")), labels, value }), {
    maxLength: 8,
  }),
  gauges: fc.array(fc.record({ name: fc.constantFrom(...names("gauge")), labels, value }), { maxLength: 8 }),
  histograms: fc.array(
    fc
      .record({
        name: fc.constantFrom(...names("histogram")),
        labels,
        counts: fc.array(fc.nat(1_000), {
          minLength: LATENCY_BUCKETS_S.length + 1,
          maxLength: LATENCY_BUCKETS_S.length + 1,
        }),
        sum: fc.double({ min: 0, max: 1e6, noNaN: true }),
      })
      .map((h) => ({ ...h, boundaries: [...LATENCY_BUCKETS_S], count: h.counts.reduce((a, b) => a + b, 0) })),
    { maxLength: 4 },
  ),
  countingSince: fc.constant(0),
});

describe("remote-write samples (promSamplesOf)", () => {
  it("are the series a scrape reads from the serializer's text: names, labels, order and values", () => {
    fc.assert(
      fc.property(merged, (m) => {
        const pushed = toPromSamples(m);
        const scraped = samplesFromText(renderPrometheusText(m));
        expect(pushed.length).toBe(scraped.length);
        pushed.forEach((p, i) => {
          expect(p.labels).toEqual(scraped[i]?.labels);
          // The text holds the shortest round-trip form of each number: equal bit for bit, -0 as 0.
          expect(p.value === scraped[i]?.value || Object.is(p.value, -0)).toBe(true);
        });
      }),
    );
  });

  it("the reader of the text reads names, escaped label values and special values", () => {
    const text = [
      "# HELP x_total help",
      'x_total{route="/v1/users/:user_id/samples",odd="a\\\\b\\"c\\nd"} 3',
      'h_bucket{le="+Inf"} 4',
      "g -Inf",
      "big 1.5e+21",
    ].join("\n");
    expect(samplesFromText(text)).toEqual([
      { labels: { __name__: "x_total", route: "/v1/users/:user_id/samples", odd: 'a\\b"c\nd' }, value: 3 },
      { labels: { __name__: "h_bucket", le: "+Inf" }, value: 4 },
      { labels: { __name__: "g" }, value: Number.NEGATIVE_INFINITY },
      { labels: { __name__: "big" }, value: 1.5e21 },
    ]);
    expect(() => samplesFromText('x{a="1} 2')).toThrow("unterminated label value");
  });
});
