import { statSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintToken } from "../../tools/lib/token.ts";
import { startWranglerDev, type WranglerDev } from "../../tools/lib/wrangler-dev.ts";
import { launchChromium, OUTPUT_DIR, openPage, type WatchedPage } from "./support/browser";
import { FrameClient } from "./support/frame-client";

// The live view (GET /live) in a real browser against `npm start`: it loads clean, draws a relay's sample
// live, loads stored history for a range, says why a token is refused, and works from the keyboard.
const PORT = 18701;
const SECRET = "e2e-live-page-secret-0123456789abcdef";
const USER = "alice";
/** How long the page may take to show what a test waits for (the machine is shared and can be slow). */
const WAIT = { timeout: 10_000 };

type Sample = { t: number; ch: string; v: number };

/** A 50 Hz sensor with three channels, samples for t in [from, to) on the 20 ms grid. */
function sensorSamples(from: number, to: number): Sample[] {
  const out: Sample[] = [];
  for (let t = Math.ceil(from / 20) * 20; t < to; t += 20) {
    out.push({
      t,
      ch: "hr",
      v: Math.round((72 + 8 * Math.sin(t / 4_000) + 2 * Math.sin(t / 350)) * 10) / 10,
    });
    out.push({ t, ch: "spo2", v: Math.round((97 + 0.8 * Math.sin(t / 9_000)) * 10) / 10 });
    out.push({ t, ch: "accel_z", v: Math.round((9.81 + 1.5 * Math.sin(t / 900)) * 100) / 100 });
  }
  return out;
}

describe("the live view in Chromium", () => {
  let dev: WranglerDev;
  let browser: Browser;
  let consumerToken: string;
  let relayToken: string;
  let opened: WatchedPage | undefined;

  beforeAll(async () => {
    [dev, browser] = await Promise.all([
      startWranglerDev({ port: PORT, vars: { AUTH_SECRET: SECRET, FLUSH_INTERVAL_MS: "200" } }),
      launchChromium(),
    ]);
    consumerToken = await mintToken({ secret: SECRET, userId: USER, role: "consumer" });
    relayToken = await mintToken({ secret: SECRET, userId: USER, role: "relay" });
  });
  afterAll(async () => {
    await opened?.close();
    await browser?.close();
    await dev?.stop();
  });

  /** Opens /live and connects as `user` with `token`, typing into the form and pressing Enter. */
  async function connectPage(token: string, user = USER, viewport?: { width: number; height: number }) {
    await opened?.close();
    opened = await openPage(browser, viewport);
    const { page } = opened;
    await page.goto(`${dev.url}/live`);
    await page.getByLabel("User id").fill(user);
    await page.getByLabel("Consumer token").fill(token);
    await page.getByLabel("Consumer token").press("Enter");
    return opened;
  }

  /** POSTs one samples frame as the relay; returns the server's answer frame. */
  async function post(seq: number, samples: Sample[], relayId = "r-hist", sessionId = "s-hist") {
    const res = await fetch(`${dev.url}/v1/users/${USER}/samples`, {
      method: "POST",
      headers: { Authorization: `Bearer ${relayToken}`, "Content-Type": "application/json" },
      body: JSON.stringify({ type: "samples", relay_id: relayId, session_id: sessionId, seq, samples }),
    });
    return res.json();
  }

  /** How many samples GET /samples returns for [from, to): what has reached D1. */
  async function storedCount(from: number, to: number): Promise<number> {
    const res = await fetch(`${dev.url}/v1/users/${USER}/samples?from=${from}&to=${to}&limit=10000`, {
      headers: { Authorization: `Bearer ${consumerToken}` },
    });
    return ((await res.json()) as { count: number }).count;
  }

  it("serves the page through the Worker and its files from the assets layer, all with the page's headers", async () => {
    const page = await fetch(`${dev.url}/live`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
    expect(page.headers.get("content-security-policy")).toContain("connect-src 'self'");
    expect(await page.text()).toContain("<title>Zander Edge · Live view</title>");
    const script = await fetch(`${dev.url}/live/uPlot.iife.min.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toMatch(/javascript/);
    // Served before the Worker (wrangler.toml run_worker_first), its headers from public/_headers.
    expect(script.headers.get("content-security-policy")).toBe(page.headers.get("content-security-policy"));
    expect(script.headers.get("x-content-type-options")).toBe("nosniff");
    const missing = await fetch(`${dev.url}/live/nothing.js`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ type: "error", code: "not_found" });
    expect(await (await fetch(`${dev.url}/health`)).json()).toEqual({ status: "ok" });
    // The raw asset paths are not a second way in: only /live and /live/<file> serve files.
    expect((await fetch(`${dev.url}/live.html`)).status).toBe(404);
  });

  it("starts with the stored samples of the live window, draws a relay's live sample within a second, never shows the token", async () => {
    // 40 s of a 50 Hz sensor with three channels, POSTed and flushed to D1: what the live chart starts with.
    const t0 = Math.floor(Date.now() / 20) * 20;
    const seedFrom = t0 - 40_000;
    let seq = 0;
    for (let t = seedFrom; t < t0; t += 5_000) {
      ++seq;
      expect(await post(seq, sensorSamples(t, Math.min(t + 5_000, t0)), "phone-1", "walk-1")).toEqual({
        type: "ack",
        seq,
      });
    }
    await expect.poll(() => storedCount(seedFrom, t0), { timeout: 20_000 }).toBe(6_000);

    // Tall enough for all three charts: charts out of view are not redrawn, and the screenshot shows them all.
    const { page, errors } = await connectPage(consumerToken, USER, { width: 1100, height: 1600 });
    await expect.poll(() => page.locator("#connection").textContent(), WAIT).toContain("Connected");
    expect(await page.locator("#socket-url").textContent()).toContain("token=hidden");
    const hr = page.locator('section[data-channel="hr"]');
    await expect.poll(async () => Number(await hr.getAttribute("data-points")), WAIT).toBe(2_000);

    // The sensor goes on live over the relay socket, from where the stored part ended, in real time.
    const relay = await FrameClient.connect(
      `${dev.url.replace("http", "ws")}/v1/relay?user_id=${USER}&token=${relayToken}`,
    );
    const frame = (samples: Sample[]) => ({
      type: "samples",
      relay_id: "phone-1",
      session_id: "walk-1",
      seq: ++seq,
      samples,
    });
    let next = t0;
    const streamUntil = Date.now() + 2_000;
    while (Date.now() < streamUntil) {
      const now = Math.floor(Date.now() / 20) * 20 + 20;
      const f = frame(sensorSamples(next, now));
      next = now;
      expect(await relay.request(f)).toEqual({ type: "ack", seq: f.seq });
      await new Promise((r) => setTimeout(r, 100)); // pacing the simulated sensor, not waiting for the page
    }
    // Then one sample, timed from the relay's send to the page's text.
    const sentAt = Date.now();
    relay.send(frame([{ t: sentAt, ch: "hr", v: 81.25 }]));
    // A locator wait, not waitForFunction with a string: that one evals in the page, which the CSP refuses.
    await page
      .locator('section[data-channel="hr"] .summary', { hasText: "newest 81.25" })
      .waitFor({ timeout: 5_000 });
    const shownAfterMs = Date.now() - sentAt;
    console.log(`live sample on screen ${shownAfterMs} ms after the relay sent it`);
    expect(shownAfterMs).toBeLessThan(1_000);
    expect(await relay.next()).toEqual({ type: "ack", seq });

    await expect
      .poll(() => hr.locator(".channel-status").textContent(), WAIT)
      .toMatch(/^(4\d|5\d)\.\d samples\/s · last sample [\d.]+ s ago · relay phone-1 · session walk-1$/);
    await expect
      .poll(() => page.locator("#stream-summary").textContent(), WAIT)
      .toMatch(/^3 channels · \d+\.\d samples\/s · relay phone-1 \(session walk-1\)$/);
    const text = await page.locator("body").innerText();
    expect(text).not.toContain(consumerToken);
    expect(page.url()).toBe(`${dev.url}/live`);
    expect(await page.evaluate('sessionStorage.getItem("zander-live.token")')).toBe(consumerToken);
    expect(await page.evaluate("localStorage.length")).toBe(0);
    await page.evaluate("document.activeElement?.blur()");
    await page.screenshot({ path: join(OUTPUT_DIR, "live-page.png"), fullPage: true });
    expect(statSync(join(OUTPUT_DIR, "live-page.png")).size).toBeGreaterThan(10_000);
    expect(errors).toEqual([]);
    await relay.close();
  });

  it("shows every stored sample at connect whether relay clocks run ahead of the browser or behind it", async () => {
    // Relay clocks 30 s ahead and 20 s behind the browser: the stored samples lie after and before its "now".
    for (const [user, offset] of [
      ["clock-ahead", 30_000],
      ["clock-behind", -20_000],
    ] as const) {
      const relay = await mintToken({ secret: SECRET, userId: user, role: "relay" });
      const consumer = await mintToken({ secret: SECRET, userId: user, role: "consumer" });
      const start = Math.floor((Date.now() + offset - 4_000) / 20) * 20;
      const samples = Array.from({ length: 200 }, (_, i) => ({ t: start + i * 20, ch: "ax", v: i }));
      const res = await fetch(`${dev.url}/v1/users/${user}/samples`, {
        method: "POST",
        headers: { Authorization: `Bearer ${relay}`, "Content-Type": "application/json" },
        body: JSON.stringify({ type: "samples", relay_id: "skewed", session_id: "s1", seq: 1, samples }),
      });
      expect(await res.json()).toEqual({ type: "ack", seq: 1 });
      const stored = async () => {
        const r = await fetch(`${dev.url}/v1/users/${user}/samples?limit=1000`, {
          headers: { Authorization: `Bearer ${consumer}` },
        });
        return ((await r.json()) as { count: number }).count;
      };
      await expect.poll(stored, { timeout: 20_000 }).toBe(200);
      const { page } = await connectPage(consumer, user);
      await expect.poll(() => page.locator("#connection").textContent(), WAIT).toContain("Connected");
      const ax = page.locator('section[data-channel="ax"]');
      await expect.poll(async () => Number(await ax.getAttribute("data-points")), WAIT).toBe(200);
    }
  });

  it("loads stored history for a range, raw when zoomed in, buckets when zoomed out, from the keyboard", async () => {
    // Two minutes at 50 Hz two hours ago, POSTed by a relay, then visible through the read API (flushed to D1).
    const start = Math.floor((Date.now() - 2 * 3_600_000) / 60_000) * 60_000;
    for (let f = 0; f < 12; f++) {
      const samples = Array.from({ length: 500 }, (_, i) => {
        const t = start + (f * 500 + i) * 20;
        return { t, ch: "hr", v: 60 + 10 * Math.sin(t / 2_000) };
      });
      expect(await post(f + 1, samples)).toEqual({ type: "ack", seq: f + 1 });
    }
    await expect.poll(() => storedCount(start, start + 120_000), { timeout: 20_000 }).toBe(6_000);

    const { page, errors } = await connectPage(consumerToken);
    await expect.poll(() => page.locator("#connection").textContent(), WAIT).toContain("Connected");
    // A channel seen live but with nothing stored in the range below: its chart must say so.
    expect(await post(100, [{ t: Date.now(), ch: "spo2", v: 97 }])).toEqual({ type: "ack", seq: 100 });
    await expect.poll(() => page.locator('section[data-channel="spo2"]').count(), WAIT).toBe(1);
    const requests: URL[] = [];
    page.on("request", (r) => {
      const url = new URL(r.url());
      if (url.pathname.endsWith("/series") || url.pathname.endsWith("/samples")) requests.push(url);
    });
    const local = (ms: number) =>
      new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 19);
    await page.getByLabel("From", { exact: true }).fill(local(start));
    await page.getByLabel("To", { exact: true }).fill(local(start + 60_000));
    await page.getByLabel("To", { exact: true }).press("Enter");
    const hr = page.locator('section[data-channel="hr"]');
    // The chart's mode, and the page's message when the load failed: a failure then says why.
    const modeAndMessage = () =>
      page.evaluate(
        `(document.querySelector('section[data-channel="hr"]')?.dataset.mode ?? "no chart") + " " + document.getElementById("message").textContent`,
      );
    await expect.poll(modeAndMessage, { timeout: 15_000 }).toBe("raw ");
    expect(await hr.getAttribute("data-points")).toBe("3000");
    // Channels with nothing stored in the range say so rather than draw an empty chart.
    expect(await page.locator('section[data-channel="spo2"] .summary').textContent()).toBe(
      "No stored samples of this channel in this range.",
    );
    await page.screenshot({ path: join(OUTPUT_DIR, "live-page-history-raw.png") });

    // Keyboard: focus leaves the inputs, then "-" zooms out twice: 4 minutes hold all 6,000 samples, too many
    // to draw raw, so buckets.
    await page.locator("#zoom-out").focus();
    await page.keyboard.press("-");
    await page.keyboard.press("-");
    await expect.poll(() => hr.getAttribute("data-mode"), { timeout: 15_000 }).toBe("buckets");
    expect(await hr.locator(".summary").textContent()).toContain("over 6,000 samples");

    // A whole day: one request, at most 2,000 buckets per chart.
    await page.getByRole("button", { name: "Last 24 h" }).click();
    await expect
      .poll(() => page.locator("#range-label").textContent(), { timeout: 15_000 })
      .toContain("buckets of 1 min");
    for (const url of requests.filter((u) => u.pathname.endsWith("/series"))) {
      const span = Number(url.searchParams.get("to")) - Number(url.searchParams.get("from"));
      expect(span / Number(url.searchParams.get("step"))).toBeLessThanOrEqual(2_001);
      expect(url.searchParams.getAll("ch")).toContain("hr");
      expect(url.searchParams.has("token")).toBe(false);
    }
    await page.keyboard.press("l");
    await expect.poll(() => page.locator("#live").getAttribute("aria-pressed"), WAIT).toBe("true");
    expect(errors).toEqual([]);
  });

  it("says why a token is refused (bad 401, another user's 403, expired) and when a user has no data", async () => {
    let { page } = await connectPage("not-a-token");
    await expect.poll(() => page.locator("#message").textContent(), WAIT).toContain("Token refused (401)");
    expect(await page.locator("#connection").textContent()).toBe("Stopped.");

    const bobToken = await mintToken({ secret: SECRET, userId: "bob", role: "consumer" });
    ({ page } = await connectPage(bobToken));
    await expect
      .poll(() => page.locator("#message").textContent(), WAIT)
      .toContain("may not read user “alice” (403)");
    expect(await page.locator("#message").textContent()).toContain("token is for another user");

    const expired = await mintToken({ secret: SECRET, userId: USER, role: "consumer", ttlSeconds: -60 });
    ({ page } = await connectPage(expired));
    await expect.poll(() => page.locator("#message").textContent(), WAIT).toContain("Token expired (401)");
    expect(await page.locator("body").innerText()).not.toContain(expired);

    // A user nobody has streamed for: a good token, connected, and a page that says there is nothing yet.
    ({ page } = await connectPage(bobToken, "bob"));
    await expect.poll(() => page.locator("#connection").textContent(), WAIT).toContain("Connected");
    await expect
      .poll(() => page.locator("#stream-summary").textContent(), WAIT)
      .toBe("No live samples for user “bob” yet: none stored in the last 1 min and no relay streaming now.");
  });

  it("stops with 'Token expired' when the server closes the stream at the token's exp (1008)", async () => {
    const shortLived = await mintToken({ secret: SECRET, userId: USER, role: "consumer", ttlSeconds: 8 });
    const { page, errors } = await connectPage(shortLived);
    await expect.poll(() => page.locator("#connection").textContent(), WAIT).toContain("Connected");
    // The close frame's words, not the 401 of a refused handshake: the page was connected when it stopped.
    await expect
      .poll(() => page.locator("#message").textContent(), { timeout: 20_000 })
      .toContain("Token expired: the server ended the stream");
    expect(await page.locator("#connection").textContent()).toBe("Stopped.");
    expect(errors).toEqual([]);
  });

  it("fits a narrow window and is usable from the keyboard alone", async () => {
    const { page, errors } = await connectPage(consumerToken, USER, { width: 360, height: 800 });
    await expect.poll(() => page.locator("#connection").textContent(), WAIT).toContain("Connected");
    expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(360);
    // Tab order: user id, token, then the buttons; Enter in the form connects (above), keys move the range.
    await page.getByLabel("User id").focus();
    await page.keyboard.press("Tab");
    expect(await page.evaluate("document.activeElement?.id")).toBe("token");
    await page.keyboard.press("Tab");
    expect(await page.evaluate("document.activeElement?.id")).toBe("connect");
    await page.keyboard.press("Tab");
    await page.keyboard.press("ArrowLeft");
    await expect.poll(() => page.locator("#live").getAttribute("aria-pressed"), WAIT).toBe("false");
    await expect.poll(() => page.locator("#range-label").textContent(), WAIT).toMatch(/^Showing /);
    await page.keyboard.press("L");
    await expect.poll(() => page.locator("#live").getAttribute("aria-pressed"), WAIT).toBe("true");
    await page.screenshot({ path: join(OUTPUT_DIR, "live-page-narrow.png"), fullPage: true });
    expect(errors).toEqual([]);
  });
});
