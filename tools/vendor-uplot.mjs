#!/usr/bin/env node
// `npm run vendor:uplot`: copies uPlot's browser build from the pinned npm package into the live view's folder
// (public/live/), with its license. The copy is committed, so a clone serves /live with no build step;
// run this after changing the `uplot` version in package.json (test/live/vendored-uplot.test.ts checks they match).
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const from = join(root, "node_modules", "uplot");
const to = join(root, "public", "live");
mkdirSync(to, { recursive: true });
for (const [src, dest] of [
  ["dist/uPlot.iife.min.js", "uPlot.iife.min.js"],
  ["dist/uPlot.min.css", "uPlot.min.css"],
  ["LICENSE", "uPlot.LICENSE.txt"],
]) {
  copyFileSync(join(from, src), join(to, dest));
  console.log(`public/live/${dest} <- node_modules/uplot/${src}`);
}
