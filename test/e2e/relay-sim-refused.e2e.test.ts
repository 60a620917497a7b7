import { createServer } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWranglerDev, type WranglerDev } from "../../tools/lib/wrangler-dev.ts";
import { runNpmScript } from "./support/npm-script";
import { type RecordingServer, startRecordingServer } from "./support/recording-server";

// `npm run sim` against a server that refuses its connections must say so at once and exit 1, instead of
// showing "0 frames/s ... errors 0" until the 30 s connect timeout (Node's WebSocket hides the upgrade's status).
const WRANGLER_PORT = 18501;
const FAKE_SERVER_PORT = 18502;
/** Nothing listens here: a connection is refused by the operating system. */
const CLOSED_PORT = 18599;
const SECRET = "e2e-sim-refused-secret-0123456789abcdef";
/** "At once": the preflight is one HTTP request; node and npm start in about a second. */
const AT_ONCE_MS = 10_000;

async function timedSim(args: string[]) {
  const startedAt = Date.now();
  const result = await runNpmScript("sim", ["--duration", "30", ...args], {
    ...process.env,
    AUTH_SECRET: SECRET,
  });
  return { ...result, ms: Date.now() - startedAt };
}

describe("npm run sim reports a refused connection at once", () => {
  let dev: WranglerDev;
  let fake: RecordingServer | undefined;

  beforeAll(async () => {
    dev = await startWranglerDev({ port: WRANGLER_PORT, vars: { AUTH_SECRET: SECRET } });
  });

  afterAll(async () => {
    await fake?.close();
    await dev?.stop();
  });

  it("names 401 and the secret when the token is signed with the wrong secret", async () => {
    const run = await timedSim(["--url", dev.url, "--secret", "not-the-deployment-secret"]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.ms).toBeLessThan(AT_ONCE_MS);
    expect(run.stderr).toMatch(
      /relay-sim: the server refused the relay connection to http:\/\/127\.0\.0\.1:18501\/v1\/relay with 401 \(unauthorized: .+\); is --secret \(or AUTH_SECRET\) the deployment's AUTH_SECRET\?/,
    );
    expect(run.stdout).toBe("");
  });

  it("names 404 when --relay-path leads nowhere", async () => {
    const run = await timedSim(["--url", dev.url, "--relay-path", "/v1/nowhere"]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.ms).toBeLessThan(AT_ONCE_MS);
    expect(run.stderr).toMatch(/refused the relay connection to .*\/v1\/nowhere with 404/);
  });

  it("names ECONNREFUSED when nothing listens at --url", async () => {
    const run = await timedSim(["--url", `http://127.0.0.1:${CLOSED_PORT}`]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.ms).toBeLessThan(AT_ONCE_MS);
    expect(run.stderr).toMatch(
      /relay-sim: cannot reach http:\/\/127\.0\.0\.1:18599\/v1\/relay for a relay connection: ECONNREFUSED/,
    );
  });

  it("names 403 and the server's message", async () => {
    fake = await startRecordingServer(FAKE_SERVER_PORT, () => ({
      status: 403,
      body: JSON.stringify({ type: "error", code: "unauthorized", message: "token is for another user" }),
    }));
    const run = await timedSim(["--url", fake.url]);
    await fake.close();
    fake = undefined;
    expect(run.code, run.stderr).toBe(1);
    expect(run.ms).toBeLessThan(AT_ONCE_MS);
    expect(run.stderr).toMatch(
      /with 403 \(unauthorized: token is for another user\); the token is for another user or role/,
    );
  });

  it("stops at once when the upgrade is refused after the preflight passed", async () => {
    // The first plain GET (the preflight) looks fine (426: upgrade required); the WebSocket upgrade is then
    // refused, and so is the plain GET that probes why, with 401: as after a secret rotation mid-run.
    const unauthorized = JSON.stringify({ type: "error", code: "unauthorized", message: "token expired" });
    let plainRequests = 0;
    let upgrades = 0;
    const server = createServer((_req, res) => {
      const first = ++plainRequests === 1;
      res
        .writeHead(first ? 426 : 401, { "content-type": "application/json" })
        .end(
          first
            ? JSON.stringify({ type: "error", code: "upgrade_required", message: "upgrade" })
            : unauthorized,
        );
    });
    server.on("upgrade", (_req, socket) => {
      upgrades++;
      socket.end(
        `HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: ${unauthorized.length}\r\n\r\n${unauthorized}`,
      );
    });
    await new Promise<void>((resolve) => server.listen(FAKE_SERVER_PORT, "127.0.0.1", resolve));
    try {
      const run = await timedSim(["--url", `http://127.0.0.1:${FAKE_SERVER_PORT}`]);
      expect(run.code, run.stderr).toBe(1);
      expect(run.ms).toBeLessThan(AT_ONCE_MS);
      expect(upgrades).toBeGreaterThan(0);
      expect(plainRequests).toBe(2);
      expect(run.stderr).toMatch(/refused the relay connection .* with 401 \(unauthorized: token expired\)/);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
