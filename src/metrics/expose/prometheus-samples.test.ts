import { describe, expect, it } from "vitest";
import { samplesFromText } from "./prometheus-samples";

describe("samplesFromText", () => {
  it("reads names, escaped label values and special values as the serializer writes them", () => {
    const text = [
      "# HELP x_total help",
      "# TYPE x_total counter",
      'x_total{route="/v1/users/:user_id/samples",odd="a\\\\b\\"c\\nd"} 3',
      "up 1",
      'h_bucket{le="+Inf"} 4',
      "g -Inf",
      "n NaN",
      "big 1.5e+21",
      "",
    ].join("\n");
    expect(samplesFromText(text)).toEqual([
      { labels: { __name__: "x_total", route: "/v1/users/:user_id/samples", odd: 'a\\b"c\nd' }, value: 3 },
      { labels: { __name__: "up" }, value: 1 },
      { labels: { __name__: "h_bucket", le: "+Inf" }, value: 4 },
      { labels: { __name__: "g" }, value: Number.NEGATIVE_INFINITY },
      { labels: { __name__: "n" }, value: Number.NaN },
      { labels: { __name__: "big" }, value: 1.5e21 },
    ]);
  });

  it("throws on a line it cannot read instead of pushing a wrong sample", () => {
    expect(() => samplesFromText('x{a="1} 2')).toThrow("unterminated label value");
    expect(() => samplesFromText("x lots")).toThrow("not a sample value: lots");
  });
});
