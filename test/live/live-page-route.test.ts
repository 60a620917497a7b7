import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import packageJs from "../../node_modules/uplot/dist/uPlot.iife.min.js?raw";
import packageCss from "../../node_modules/uplot/dist/uPlot.min.css?raw";
import packageJson from "../../package.json";
import assetHeaders from "../../public/_headers?raw";
import vendoredJs from "../../public/live/uPlot.iife.min.js?raw";
import vendoredCss from "../../public/live/uPlot.min.css?raw";
import { LIVE_PAGE_HEADERS } from "../../src/routes/live-page";

describe("GET /live", () => {
  it("serves the page with headers that keep it on this origin", async () => {
    const res = await exports.default.fetch("https://edge.test/live");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    const html = await res.text();
    expect(html).toContain('<script src="/live/main.js" type="module"></script>');
    // Everything it loads comes from this Worker: no CDN.
    expect(html).not.toMatch(/(src|href)="https?:/);
  });

  it("serves the page's files, and a JSON 404 for any other name", async () => {
    const js = await exports.default.fetch("https://edge.test/live/main.js");
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toMatch(/javascript/);
    const missing = await exports.default.fetch("https://edge.test/live/missing.js");
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ type: "error", code: "not_found" });
    expect((await exports.default.fetch("https://edge.test/live/../wrangler.toml")).status).toBe(404);
  });
});

describe("public/_headers", () => {
  it("gives the files the assets layer serves under /live/ the page's own headers", () => {
    const rules = assetHeaders.split("\n").filter((line) => line.trim() && !line.startsWith("#"));
    expect(rules[0]).toBe("/live/*");
    const headers = Object.fromEntries(
      rules.slice(1).map((line) => {
        const colon = line.indexOf(":");
        return [line.slice(0, colon).trim(), line.slice(colon + 1).trim()];
      }),
    );
    expect(headers).toEqual(LIVE_PAGE_HEADERS);
  });
});

describe("vendored uPlot (public/live/)", () => {
  it("is the pinned npm package's build: run `npm run vendor:uplot` after changing its version", () => {
    expect(packageJson.devDependencies.uplot).toMatch(/^\d+\.\d+\.\d+$/);
    expect(
      vendoredJs.startsWith(
        `/*! https://github.com/leeoniya/uPlot (v${packageJson.devDependencies.uplot}) */`,
      ),
    ).toBe(true);
    expect(vendoredJs === packageJs).toBe(true);
    expect(vendoredCss === packageCss).toBe(true);
  });
});
