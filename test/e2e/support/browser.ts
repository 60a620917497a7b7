import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";

/** Screenshots and other files the browser tests leave for a person to look at (gitignored). */
export const OUTPUT_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "output");

/**
 * Debian's chromium (`apt-get install chromium`, as .ci/run does) driven by playwright-core: Playwright's own
 * browser download needs the internet, this does not.
 */
export function launchChromium(): Promise<Browser> {
  mkdirSync(OUTPUT_DIR, { recursive: true });
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
}

export interface WatchedPage {
  page: Page;
  /** Console errors and uncaught exceptions of the page so far. */
  errors: string[];
  close(): Promise<void>;
}

/** A new page (own context: own session storage) that records every console error and page error. */
export async function openPage(
  browser: Browser,
  viewport = { width: 1100, height: 900 },
): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(String(e)));
  return { page, errors, close: () => context.close() };
}
