import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { type RecordingServer, startRecordingServer } from "./support/recording-server";

// The upload commands of the README (`npm run upload:rules`, `npm run upload:dashboards`) run as real
// processes against a local server that plays the Mimir ruler and the Grafana HTTP API and records requests.
const PORT = 19097;
const run = promisify(execFile);

async function runTool(script: string, env: Record<string, string>, args: string[] = []) {
  try {
    const { stdout, stderr } = await run(process.execPath, [script, ...args], {
      env: { PATH: process.env.PATH, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const ruleGroups = ["collector/rules/alerts.yml", "collector/rules/recording.yml"].flatMap(
  (f) => (parse(readFileSync(f, "utf8")) as { groups: { name: string }[] }).groups,
);
const dashboardFiles = readdirSync("collector/dashboards").filter((f) => f.endsWith(".json"));

let server: RecordingServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("npm run upload:rules", () => {
  const env = {
    RULER_URL: `http://127.0.0.1:${PORT}/api/prom/`,
    RULER_USERNAME: "123456",
    RULER_PASSWORD: "glc_test",
  };

  it("posts every rule group as YAML with basic auth, and the same again on a re-run", async () => {
    server = await startRecordingServer(PORT, () => ({ status: 202, body: "" }));
    const first = await runTool("tools/upload-rules.ts", env);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(server.requests).toHaveLength(ruleGroups.length);
    for (const [i, request] of server.requests.entries()) {
      expect(request.method).toBe("POST");
      expect(request.url).toBe("/api/prom/config/v1/rules/zander-edge");
      expect(request.headers["content-type"]).toBe("application/yaml");
      expect(request.headers.authorization).toBe(
        `Basic ${Buffer.from("123456:glc_test").toString("base64")}`,
      );
      expect(parse(request.body)).toEqual(ruleGroups[i]);
    }
    const firstBodies = server.requests.map((r) => r.body);
    await runTool("tools/upload-rules.ts", env);
    expect(server.requests.slice(ruleGroups.length).map((r) => r.body)).toEqual(firstBodies);
  });

  it("uses --namespace and only the rule files given", async () => {
    server = await startRecordingServer(PORT, () => ({ status: 202 }));
    const result = await runTool("tools/upload-rules.ts", env, [
      "--namespace",
      "edge-staging",
      "collector/rules/recording.yml",
    ]);
    expect(result.code).toBe(0);
    const recordingGroups = (
      parse(readFileSync("collector/rules/recording.yml", "utf8")) as { groups: unknown[] }
    ).groups;
    expect(server.requests.map((r) => r.url)).toEqual(
      recordingGroups.map(() => "/api/prom/config/v1/rules/edge-staging"),
    );
  });

  it("fails with the ruler's answer when it refuses, and names a missing variable", async () => {
    server = await startRecordingServer(PORT, () => ({ status: 401, body: "invalid token" }));
    const refused = await runTool("tools/upload-rules.ts", env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      `rule group zander-edge-ingestion: POST http://127.0.0.1:${PORT}/api/prom/config/v1/rules/zander-edge answered 401: invalid token`,
    );
    expect(server.requests).toHaveLength(1);

    const missing = await runTool("tools/upload-rules.ts", { RULER_URL: env.RULER_URL });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("RULER_USERNAME is not set");
  });

  it("refuses a file that is not a rule file, naming it, before uploading anything", async () => {
    server = await startRecordingServer(PORT, () => ({ status: 202 }));
    const result = await runTool("tools/upload-rules.ts", env, ["collector/alertmanager.yml"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("collector/alertmanager.yml is not a Prometheus rule file");
    expect(server.requests).toHaveLength(0);
  });
});

describe("npm run upload:dashboards", () => {
  const env = { GRAFANA_URL: `http://127.0.0.1:${PORT}`, GRAFANA_TOKEN: "glsa_test" };

  /** A Grafana that knows folders once they are created. */
  async function fakeGrafana() {
    const folders = new Set<string>();
    return startRecordingServer(PORT, (r) => {
      if (r.method === "GET" && r.url.startsWith("/api/folders/")) {
        const uid = decodeURIComponent(r.url.slice("/api/folders/".length));
        return folders.has(uid)
          ? { status: 200, body: JSON.stringify({ uid }) }
          : { status: 404, body: "{}" };
      }
      if (r.method === "POST" && r.url === "/api/folders") {
        folders.add((JSON.parse(r.body) as { uid: string }).uid);
        return { status: 200, body: r.body };
      }
      if (r.method === "POST" && r.url === "/api/dashboards/db")
        return { status: 200, body: '{"status":"success"}' };
      return { status: 404, body: "{}" };
    });
  }

  it("creates the folder once and posts every dashboard with its uid, overwrite and a bearer token", async () => {
    server = await fakeGrafana();
    const first = await runTool("tools/upload-dashboards.ts", env);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    const second = await runTool("tools/upload-dashboards.ts", env);
    expect(second.code).toBe(0);

    const folderCreations = server.requests.filter((r) => r.method === "POST" && r.url === "/api/folders");
    expect(folderCreations.map((r) => JSON.parse(r.body))).toEqual([
      { uid: "zander-edge", title: "Zander Edge" },
    ]);

    const posts = server.requests.filter((r) => r.url === "/api/dashboards/db");
    expect(posts).toHaveLength(2 * dashboardFiles.length);
    for (const post of posts) expect(post.headers.authorization).toBe("Bearer glsa_test");
    const bodies = posts.map((r) => JSON.parse(r.body));
    const expectedUids = dashboardFiles
      .sort()
      .map((f) => (JSON.parse(readFileSync(`collector/dashboards/${f}`, "utf8")) as { uid: string }).uid);
    expect(bodies.map((b) => b.dashboard.uid)).toEqual([...expectedUids, ...expectedUids]);
    for (const body of bodies) {
      expect(body).toMatchObject({ folderUid: "zander-edge", overwrite: true });
      expect(body.dashboard.id).toBeUndefined();
      // The data source stays a variable: every panel names `${datasource}`, never a uid of this instance.
      expect(JSON.stringify(body.dashboard)).toContain(`"uid":"$\{datasource}"`);
    }
    // Idempotent: the second run sends exactly what the first did.
    expect(bodies.slice(dashboardFiles.length)).toEqual(bodies.slice(0, dashboardFiles.length));
  });

  it("reports Grafana's answer when a dashboard is refused", async () => {
    server = await startRecordingServer(PORT, (r) =>
      r.url.startsWith("/api/folders/")
        ? { status: 200, body: "{}" }
        : { status: 412, body: '{"message":"version-mismatch"}' },
    );
    const result = await runTool("tools/upload-dashboards.ts", env, ["collector/dashboards/errors.json"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `dashboard zander-edge-errors: POST http://127.0.0.1:${PORT}/api/dashboards/db answered 412: {"message":"version-mismatch"}`,
    );
  });
});
