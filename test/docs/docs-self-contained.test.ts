/// <reference types="vite/client" />
import { describe, expect, it } from "vitest";
import protocol from "../../docs/protocol.md?raw";
import readme from "../../README.md?raw";

// A clone holds only this repository: its docs must not point outside it, and links into docs/protocol.md must
// land on a heading that exists.
const docs = import.meta.glob<string>("../../docs/*.md", { query: "?raw", import: "default", eager: true });
/** Every source, tool, test, collector and page file: their comments must not cite a contract outside either. */
const sources = import.meta.glob<string>(
  [
    "../../{src,durable-objects,tools,test,collector,public,migrations}/**/*.{ts,mjs,js,yml,yaml,alloy,sql,json,html}",
    "../../*.{toml,md,json}",
    "!../../**/node_modules/**",
    "!../../public/live/uPlot*",
  ],
  { query: "?raw", import: "default", eager: true },
);

/** GitHub's anchor of a markdown heading: lower case, punctuation dropped, spaces as hyphens. */
function anchorOf(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, "")
    .replace(/ /g, "-");
}

describe("README and docs/", () => {
  it("link nothing outside the repository (no ../shared, no SPEC.md)", () => {
    const files = { "README.md": readme, ...docs };
    expect(Object.keys(files)).toContain("../../docs/protocol.md");
    for (const [name, text] of Object.entries(files)) {
      expect(text, name).not.toMatch(/\.\.\/shared|SPEC\.md/);
    }
  });

  it('cite no outside contract anywhere: no "SPEC §" in code, comments, configs or tests', () => {
    expect(Object.keys(sources).length).toBeGreaterThan(100);
    const citing = Object.entries(sources)
      .filter(([, text]) => /SPEC §|SPEC\.md|\.\.\/shared\//.test(text))
      .map(([name]) => name);
    expect(citing).toEqual([]);
  });

  it("link docs/protocol.md only at headings it has", () => {
    const anchors = new Set([...protocol.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchorOf(m[1] as string)));
    const linked = [...readme.matchAll(/\(docs\/protocol\.md#([^)]+)\)/g)].map((m) => m[1] as string);
    expect(linked.length).toBeGreaterThan(0);
    expect(linked.filter((a) => !anchors.has(a))).toEqual([]);
  });
});
