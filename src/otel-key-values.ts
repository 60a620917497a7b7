import { parseKeyPairsIntoRecord } from "@opentelemetry/core";

/**
 * Parses the `key=value,key=value` lists of the OpenTelemetry environment variables (OTEL_EXPORTER_OTLP_HEADERS,
 * OTEL_RESOURCE_ATTRIBUTES) with the OpenTelemetry SDK's own parser (W3C baggage format: values percent-decoded,
 * so Grafana Cloud's `Authorization=Basic%20...` works). The SDK skips an entry it cannot read; here that is an
 * Error naming the variable, the entry's position and its key, never its value: these variables hold secrets.
 */
export function parseOtelKeyValues(
  variable: string,
  raw: string,
  keyPattern: RegExp,
): Record<string, string> {
  const entries = raw.split(",");
  entries.forEach((entry, i) => {
    const where = `${variable} entry ${i + 1} of ${entries.length}`;
    const key = entry.includes("=") ? entry.slice(0, entry.indexOf("=")).trim() : "";
    // The SDK would cut the value at a `;` (baggage metadata): a truncated credential must not pass silently.
    if (entry.includes(";")) throw new Error(`${where}${key ? ` (${key})` : ""} has a ";": write it as %3B`);
    const parsed = Object.entries(parseKeyPairsIntoRecord(entry));
    if (parsed.length !== 1) {
      throw new Error(
        `${where}${key ? ` (${key})` : ""} is not key=value with a non-empty, percent-encoded value`,
      );
    }
    const [name, value] = parsed[0] as [string, string];
    if (!keyPattern.test(name)) throw new Error(`${where} has an invalid key ${JSON.stringify(name)}`);
    if (/[\r\n\0]/.test(value)) throw new Error(`${where} (${name}) has a line break or NUL in its value`);
  });
  return parseKeyPairsIntoRecord(raw);
}

/** An HTTP header name (RFC 9110 token). */
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** An OpenTelemetry attribute key: printable ASCII without separators. */
export const ATTRIBUTE_KEY = /^[A-Za-z0-9_.\-/:]+$/;
