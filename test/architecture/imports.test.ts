/// <reference types="vite/client" />
import { describe, expect, it } from "vitest";

// Tests run inside workerd, which cannot read the repository: Vite bundles every module's text into the test.
const sources = import.meta.glob<string>(["/src/**/*.ts", "/durable-objects/**/*.ts", "!**/*.test.ts"], {
  query: "?raw",
  import: "default",
  eager: true,
});

/**
 * Which layers each layer may import (its own modules always). A layer is a folder of src/ (storage/ and metrics/
 * count per sub-folder, their top files as `metrics` and `storage`), a top file of src/, or durable-objects.
 * `storage/*` matches every storage room. Bottom first; nothing runs back up.
 */
const MAY_IMPORT: Record<string, readonly string[]> = {
  protocol: [],
  "otel-key-values": [],
  version: [],
  jitter: [],
  "d1-bindings": [],
  // The binding types, object classes included, are generated (worker-configuration.d.ts, `npm run types`).
  env: [],
  config: ["env", "otel-key-values", "d1-bindings"],
  // Storage: the pure chunk codec at the bottom, the other rooms on top of it.
  "storage/chunk": ["protocol"],
  "storage/*": [
    "protocol",
    "config",
    "env",
    "jitter",
    "d1-bindings",
    "metrics",
    "metrics/record",
    "storage/*",
  ],
  // Metrics stages: record → ship → aggregate ← expose.
  metrics: [],
  "metrics/aggregate": ["metrics", "config", "env"],
  "metrics/ship": ["metrics", "metrics/aggregate", "config", "env"],
  "metrics/record": ["metrics", "metrics/ship", "config", "env", "jitter"],
  "metrics/expose": ["metrics", "metrics/aggregate", "config", "env", "version"],
  // The ingest stream: storage below it, the Durable Objects above.
  stream: ["protocol", "storage/*", "metrics", "metrics/record", "config", "env", "jitter"],
  "durable-objects": ["stream", "storage/*", "protocol", "metrics", "metrics/*", "config", "env", "jitter"],
  // The HTTP side: http < auth < middleware < routes < app.
  http: ["protocol", "metrics/record"],
  auth: ["http", "protocol", "config", "env"],
  middleware: ["auth", "http", "protocol", "metrics/record", "config", "env"],
  routes: ["middleware", "auth", "http", "protocol", "storage/*", "metrics/*", "config", "env"],
  app: ["routes", "middleware", "http", "metrics/record", "config", "env"],
  index: ["app", "durable-objects", "storage/*", "metrics/*", "config", "env"],
};

/** Edges allowed to close a cycle, each with its reason (`"src/a.ts -> src/b.ts"`): none today. */
const BACK_EDGES = new Set<string>([]);

const IMPORT = /(?:^|[\s;])(?:import|export)\s[^;]*?from\s+"([^"]+)"|(?:^|[\s;])import\s*\(?\s*"([^"]+)"/g;

const files = new Map(Object.entries(sources).map(([key, text]) => [key.slice(1), text]));

/** The repository paths a module imports (relative specifiers only: packages and runtime modules are outside). */
function importsOf(file: string, text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(IMPORT)) {
    const specifier = match[1] ?? match[2];
    if (!specifier?.startsWith(".")) continue;
    const base = resolve(file, specifier);
    const target = [`${base}.ts`, base, `${base}/index.ts`].find((path) => files.has(path));
    found.push(target ?? `${base}.ts`);
  }
  return found;
}

function resolve(from: string, specifier: string): string {
  const parts = from.split("/").slice(0, -1);
  for (const part of specifier.split("/")) {
    if (part === "..") parts.pop();
    else if (part !== ".") parts.push(part);
  }
  return parts.join("/");
}

/** The layer of a repository path, e.g. `src/storage/d1/writer.ts` → `storage/d1`, `src/app.ts` → `app`. */
function layerOf(path: string): string {
  if (path.startsWith("durable-objects/")) return "durable-objects";
  const parts = path
    .replace(/^src\//, "")
    .replace(/\.ts$/, "")
    .split("/");
  if ((parts[0] === "storage" || parts[0] === "metrics") && parts.length >= 3)
    return `${parts[0]}/${parts[1]}`;
  return parts[0] as string;
}

function rulesOf(layer: string): readonly string[] | undefined {
  return MAY_IMPORT[layer] ?? MAY_IMPORT[`${layer.split("/")[0]}/*`];
}

function allowed(from: string, to: string): boolean {
  if (from === to) return true;
  return (rulesOf(from) ?? []).some((rule) =>
    rule.endsWith("/*") ? to.startsWith(rule.slice(0, -1)) : rule === to,
  );
}

const graph = new Map([...files].map(([file, text]) => [file, importsOf(file, text)]));

describe("imports in src/ and durable-objects/", () => {
  it("finds the modules and their imports", () => {
    expect(files.has("src/app.ts")).toBe(true);
    expect(graph.get("src/app.ts")).toContain("src/http/route-error.ts");
  });

  it("resolve to files that exist", () => {
    const missing = [...graph].flatMap(([file, targets]) =>
      targets.filter((t) => !files.has(t)).map((t) => `${file} -> ${t}`),
    );
    expect(missing).toEqual([]);
  });

  it("every layer is declared", () => {
    const undeclared = [...new Set([...files.keys()].map(layerOf))].filter((layer) => !rulesOf(layer));
    expect(
      undeclared,
      "declare in MAY_IMPORT (test/architecture/imports.test.ts) which layers these may import",
    ).toEqual([]);
  });

  it("never run back up: each import is allowed by MAY_IMPORT", () => {
    const upward = [...graph].flatMap(([file, targets]) =>
      targets
        .filter((t) => !BACK_EDGES.has(`${file} -> ${t}`) && !allowed(layerOf(file), layerOf(t)))
        .map((t) => `${file} (${layerOf(file)}) -> ${t} (${layerOf(t)})`),
    );
    expect(upward).toEqual([]);
  });

  it("form no cycle", () => {
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const path: string[] = [];
    const visit = (file: string): void => {
      state.set(file, "open");
      path.push(file);
      for (const target of graph.get(file) ?? []) {
        if (BACK_EDGES.has(`${file} -> ${target}`)) continue;
        if (state.get(target) === "open")
          cycles.push([...path.slice(path.indexOf(target)), target].join(" -> "));
        else if (!state.has(target) && graph.has(target)) visit(target);
      }
      path.pop();
      state.set(file, "done");
    };
    for (const file of graph.keys()) if (!state.has(file)) visit(file);
    expect(cycles).toEqual([]);
  });
});

describe("layerOf", () => {
  it("names storage and metrics rooms by sub-folder, other folders and top files by name", () => {
    expect(layerOf("src/storage/d1/writer.ts")).toBe("storage/d1");
    expect(layerOf("src/metrics/wire.ts")).toBe("metrics");
    expect(layerOf("src/routes/samples.ts")).toBe("routes");
    expect(layerOf("src/app.ts")).toBe("app");
    expect(layerOf("durable-objects/user-stream.ts")).toBe("durable-objects");
  });

  it("fails an upward import", () => {
    expect(allowed("auth", "routes")).toBe(false);
    expect(allowed("storage/chunk", "storage/d1")).toBe(false);
    expect(allowed("metrics/record", "metrics/expose")).toBe(false);
    expect(allowed("storage/r2", "storage/chunk")).toBe(true);
  });
});
