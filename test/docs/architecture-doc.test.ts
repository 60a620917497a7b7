/// <reference types="vite/client" />
import { describe, expect, it } from "vitest";
import architecture from "../../docs/architecture.md?raw";

// docs/architecture.md is the map of the house: every path it names must exist, and every folder of src/ (and
// every file of the folders a request or a frame passes through) must be on it. Vite lists the repository's
// files at bundle time (workerd cannot read them); nothing is loaded.
const files = Object.keys(
  import.meta.glob(["/src/**", "/durable-objects/**", "/docs/**", "/migrations/**", "/tools/**", "/test/**"]),
).map((key) => key.slice(1));

const folders = new Set(
  files.flatMap((file) =>
    file
      .split("/")
      .slice(0, -1)
      .map((_, i, parts) => `${parts.slice(0, i + 1).join("/")}/`),
  ),
);
const sourceFiles = files.filter(
  (f) => /^(src|durable-objects)\/.*\.ts$/.test(f) && !/\.(test|d)\.ts$/.test(f),
);

/** Folders whose every module the page names: the request's and the frame's way. */
const LISTED_IN_FULL = [
  "src/routes/",
  "src/middleware/",
  "src/auth/",
  "src/http/",
  "src/stream/",
  "durable-objects/",
];

const PATH = /\b(?:src|durable-objects|docs|migrations|tools|test)\/[A-Za-z0-9_./-]*[A-Za-z0-9_/-]/g;
const BARE_MODULE = /(?<![/\w.-])[a-z0-9-]+\.ts\b/g;

describe("docs/architecture.md", () => {
  it("sees the repository", () => {
    expect(files).toContain("src/app.ts");
  });

  it("names only paths that exist", () => {
    const named = [...new Set(architecture.match(PATH) ?? [])];
    expect(named.length).toBeGreaterThan(10);
    const missing = named.filter(
      (path) => !files.includes(path) && !folders.has(path.endsWith("/") ? path : `${path}/`),
    );
    expect(missing, "paths named in docs/architecture.md that do not exist").toEqual([]);
  });

  it("names only module files that exist", () => {
    const basenames = new Set(sourceFiles.map((f) => f.slice(f.lastIndexOf("/") + 1)));
    const missing = [...new Set(architecture.match(BARE_MODULE) ?? [])].filter(
      (name) => !basenames.has(name),
    );
    expect(missing, "file names in docs/architecture.md that no module has").toEqual([]);
  });

  it("names every folder of src/", () => {
    const unnamed = [...folders].filter((f) => f.startsWith("src/") && !architecture.includes(f));
    expect(unnamed, "folders of src/ that docs/architecture.md does not name: add them to its map").toEqual(
      [],
    );
  });

  it(`names every module of ${LISTED_IN_FULL.join(", ")}`, () => {
    const unnamed = sourceFiles.filter((file) => {
      const folder = file.slice(0, file.lastIndexOf("/") + 1);
      const name = file.slice(folder.length);
      return LISTED_IN_FULL.includes(folder) && !architecture.includes(name);
    });
    expect(unnamed, "modules that docs/architecture.md does not name: add them to its map").toEqual([]);
  });
});
