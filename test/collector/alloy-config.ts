/**
 * Reads the parts of collector/config.alloy the tests check: its labelled components (`prometheus.scrape
 * "zander_edge" { ... }`) with their attributes and nested blocks, as text. No Alloy binary or parser package is
 * available here, so this reads only the plain form the file uses (one `name = value` per line, `name { ... }`
 * blocks); anything else in a component fails the read rather than being skipped.
 */
export interface AlloyBlock {
  attributes: Record<string, string>;
  blocks: Record<string, AlloyBlock>;
}

export function alloyComponents(source: string): Map<string, AlloyBlock> {
  const lines = source
    .split("\n")
    .map((l) => l.replace(/^\s*\/\/.*$/, "").trimEnd())
    .filter((l) => l.trim() !== "");
  const components = new Map<string, AlloyBlock>();
  let i = 0;
  const readBlock = (): AlloyBlock => {
    const block: AlloyBlock = { attributes: {}, blocks: {} };
    while (i < lines.length) {
      const line = (lines[i++] as string).trim();
      if (line === "}") return block;
      const nested = /^([a-z_]+) \{$/.exec(line);
      if (nested) {
        block.blocks[nested[1] as string] = readBlock();
        continue;
      }
      const attribute = /^([a-z_]+)\s*=\s*(.*)$/.exec(line);
      if (!attribute) throw new Error(`config.alloy: cannot read line ${JSON.stringify(line)}`);
      let value = attribute[2] as string;
      // A multi-line value (list or object) runs until its brackets close.
      const depth = (s: string) => (s.match(/[[{(]/g) ?? []).length - (s.match(/[\]})]/g) ?? []).length;
      while (depth(value) > 0 && i < lines.length) value += `\n${(lines[i++] as string).trim()}`;
      block.attributes[attribute[1] as string] = value;
    }
    throw new Error("config.alloy: a block is not closed");
  };
  while (i < lines.length) {
    const line = (lines[i++] as string).trim();
    const component = /^([a-z_]+(?:\.[a-z_]+)+) "([a-z_]+)" \{$/.exec(line);
    if (!component) throw new Error(`config.alloy: expected a component, got ${JSON.stringify(line)}`);
    components.set(`${component[1]}.${component[2]}`, readBlock());
  }
  return components;
}

/** A string literal's value, or the variable name of `sys.env("NAME")` as `${env:NAME}`; else throws. */
export function alloyValue(expression: string): string {
  const literal = /^"((?:[^"\\]|\\.)*)"$/.exec(expression.trim());
  if (literal) return JSON.parse(`"${literal[1]}"`) as string;
  const env = /^sys\.env\("([A-Z0-9_]+)"\)$/.exec(expression.trim());
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the collector's env reference, not a JS template
  if (env) return "${env:NAME}".replace("NAME", env[1] as string);
  throw new Error(`config.alloy: ${expression} is neither a string nor sys.env("...")`);
}

/**
 * The Prometheus scrape config that the `prometheus.scrape` component amounts to, with env references as the
 * collector configs write them, so one check covers every variant's scrape.
 */
export function alloyScrapeConfig(component: AlloyBlock): Record<string, unknown> {
  const a = component.attributes;
  const auth = component.blocks.authorization?.attributes ?? {};
  const target = Object.fromEntries(
    [...(a.targets ?? "").matchAll(/"([a-z_]+)"\s*=\s*(sys\.env\("[A-Z0-9_]+"\)|"[^"]*")/g)].map((m) => [
      m[1],
      alloyValue(m[2] as string),
    ]),
  );
  const { __address__: address, ...labels } = target;
  return {
    job_name: alloyValue(a.job_name ?? ""),
    scrape_interval: alloyValue(a.scrape_interval ?? ""),
    scrape_timeout: alloyValue(a.scrape_timeout ?? ""),
    scheme: alloyValue(a.scheme ?? ""),
    metrics_path: alloyValue(a.metrics_path ?? ""),
    authorization: { type: alloyValue(auth.type ?? ""), credentials: alloyValue(auth.credentials ?? "") },
    static_configs: [{ targets: [address], labels }],
  };
}
