import type { Labels } from "../wire";

/** One Prometheus sample: `__name__` and labels as Prometheus sees them after a scrape of /metrics. */
export interface PromSample {
  labels: Labels;
  value: number;
  /** A staleness marker (remote-write only): the series ended; `value` is ignored. */
  stale?: true;
}

/**
 * The samples of Prometheus text exposition as the OpenTelemetry serializer writes it (render.ts): the remote-write
 * push reads its series back from that text, so the Prometheus names (`_total`, `_bucket` with `le`, `_sum`,
 * `_count`) are decided in one place, by the serializer, for /metrics and remote-write alike. Reads only that
 * writer's form: `name{label="value",...} value` lines, values escaped as `\\`, `\"`, `\n`; throws on anything else.
 */
export function samplesFromText(text: string): PromSample[] {
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
    out.push({ labels, value: sampleValue(line.slice(at).trim()) });
  }
  return out;
}

function sampleValue(text: string): number {
  if (text === "+Inf") return Number.POSITIVE_INFINITY;
  if (text === "-Inf") return Number.NEGATIVE_INFINITY;
  const value = Number(text);
  if (text === "" || (Number.isNaN(value) && text !== "NaN")) throw new Error(`not a sample value: ${text}`);
  return value;
}
