import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
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

/** A Mimir ruler's namespace API (as mimirtool calls it) with state, on the recording server. */
async function fakeRuler(seed: Record<string, Record<string, unknown>[]> = {}) {
  const namespaces = new Map(
    Object.entries(seed).map(([ns, groups]) => [ns, new Map(groups.map((g) => [g.name as string, g]))]),
  );
  const server = await startRecordingServer(PORT, (r) => {
    const m = /^\/prometheus\/config\/v1\/rules\/([^/]+)(?:\/([^/]+))?$/.exec(r.url);
    if (!m) return { status: 404, body: "404 page not found", contentType: "text/plain" };
    const ns = decodeURIComponent(m[1] as string);
    const group = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
    const groups = namespaces.get(ns) ?? new Map<string, Record<string, unknown>>();
    namespaces.set(ns, groups);
    if (r.method === "GET" && group === undefined) {
      return groups.size > 0
        ? { status: 200, body: stringify({ [ns]: [...groups.values()] }), contentType: "application/yaml" }
        : { status: 404, body: "no rule groups found", contentType: "text/plain" };
    }
    if (r.method === "POST" && group === undefined) {
      const posted = parse(r.body) as Record<string, unknown>;
      groups.set(posted.name as string, posted);
      return { status: 202, body: "{}" };
    }
    if (r.method === "DELETE" && group !== undefined && groups.delete(group))
      return { status: 202, body: "{}" };
    return { status: 404, body: "group does not exist", contentType: "text/plain" };
  });
  const groupsOf = (ns: string) => [...(namespaces.get(ns)?.values() ?? [])];
  return { server, groupsOf };
}

describe("npm run upload:rules (sync of one namespace)", () => {
  const env = {
    RULER_URL: `http://127.0.0.1:${PORT}`,
    RULER_USERNAME: "123456",
    RULER_PASSWORD: "glc_test",
  };
  const NAMESPACE_URL = "/prometheus/config/v1/rules/zander-edge";
  const changes = (s: RecordingServer) => s.requests.filter((r) => r.method !== "GET");

  it("creates every group with basic auth as YAML, and a re-run changes nothing", async () => {
    const ruler = await fakeRuler();
    server = ruler.server;
    const first = await runTool("tools/upload-rules.ts", env);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(
      `namespace zander-edge: ${ruleGroups.length} to create, 0 to update, 0 to delete`,
    );
    const posts = changes(server);
    expect(posts.map((r) => `${r.method} ${r.url}`)).toEqual(ruleGroups.map(() => `POST ${NAMESPACE_URL}`));
    for (const [i, request] of posts.entries()) {
      expect(request.headers["content-type"]).toBe("application/yaml");
      expect(request.headers.authorization).toBe(
        `Basic ${Buffer.from("123456:glc_test").toString("base64")}`,
      );
      expect(parse(request.body)).toEqual(ruleGroups[i]);
    }
    expect(ruler.groupsOf("zander-edge")).toEqual(ruleGroups);

    const second = await runTool("tools/upload-rules.ts", env);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`0 to create, 0 to update, 0 to delete, ${ruleGroups.length} unchanged`);
    expect(changes(server)).toHaveLength(ruleGroups.length);
  });

  it("prints the difference on --dry-run without changing anything, then deletes and updates like mimirtool sync", async () => {
    const [changed, ...same] = ruleGroups as Record<string, unknown>[];
    const stale = {
      name: "zander-edge-removed",
      rules: [{ record: "old:metric:rate5m", expr: "vector(1)" }],
    };
    const edited = { ...changed, rules: [{ alert: "Edited", expr: "vector(1)" }] };
    const ruler = await fakeRuler({ "zander-edge": [edited, ...same, stale] });
    server = ruler.server;

    const dry = await runTool("tools/upload-rules.ts", env, ["--dry-run"]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`~ update group ${changed?.name}`);
    expect(dry.stdout).toContain("- delete group zander-edge-removed");
    // The update shows what changes, as a unified diff of the group's YAML.
    expect(dry.stdout).toContain("+++ zander-edge-ingestion\tfiles");
    expect(dry.stdout).toMatch(/^-\s+- alert: Edited$/m);
    expect(dry.stdout).toMatch(/^\+\s+- alert: HighErrorRate$/m);
    expect(dry.stdout).toContain(`0 to create, 1 to update, 1 to delete, ${same.length} unchanged`);
    expect(dry.stdout).toContain("dry run: nothing changed");
    expect(changes(server)).toEqual([]);

    const real = await runTool("tools/upload-rules.ts", env);
    expect(real.stderr).toBe("");
    expect(real.code).toBe(0);
    expect(changes(server).map((r) => `${r.method} ${r.url}`)).toEqual([
      `POST ${NAMESPACE_URL}`,
      `DELETE ${NAMESPACE_URL}/zander-edge-removed`,
    ]);
    expect(
      ruler.groupsOf("zander-edge").sort((a, b) => String(a.name).localeCompare(String(b.name))),
    ).toEqual([...ruleGroups].sort((a, b) => a.name.localeCompare(b.name)));
  });

  it("uses --namespace and only the rule files given; X-Scope-OrgID for a Mimir without auth", async () => {
    const ruler = await fakeRuler({
      other: [{ name: "untouched", rules: [{ record: "a:b:c", expr: "vector(1)" }] }],
    });
    server = ruler.server;
    const result = await runTool(
      "tools/upload-rules.ts",
      { RULER_URL: env.RULER_URL, RULER_TENANT_ID: "tenant-7" },
      ["--namespace", "edge-staging", "collector/rules/recording.yml"],
    );
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const recordingGroups = (
      parse(readFileSync("collector/rules/recording.yml", "utf8")) as { groups: unknown[] }
    ).groups;
    expect(ruler.groupsOf("edge-staging")).toEqual(recordingGroups);
    expect(ruler.groupsOf("other")).toHaveLength(1);
    for (const r of server.requests) {
      expect(r.headers["x-scope-orgid"]).toBe("tenant-7");
      expect(r.headers.authorization).toBeUndefined();
    }
  });

  it.each([
    [401, "check RULER_USERNAME (the stack's Prometheus instance id"],
    [403, "needs the rules:read and rules:write scopes"],
    [404, "check RULER_URL: the stack's Prometheus address as Grafana Cloud shows it"],
  ])("on %i names what to check, before changing anything", async (status, hint) => {
    server = await startRecordingServer(PORT, () => ({ status, body: "refused", contentType: "text/plain" }));
    const result = await runTool("tools/upload-rules.ts", env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `GET http://127.0.0.1:${PORT}${NAMESPACE_URL} answered ${status}: refused`,
    );
    expect(result.stderr).toContain(hint);
    expect(server.requests.map((r) => r.method)).toEqual(["GET"]);
  });

  it("names a missing variable and refuses the old /api/prom form of RULER_URL", async () => {
    const ruler = (await fakeRuler()).server;
    server = ruler;
    const missing = await runTool("tools/upload-rules.ts", { RULER_URL: env.RULER_URL });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("RULER_USERNAME is not set");
    const half = await runTool("tools/upload-rules.ts", { RULER_URL: env.RULER_URL, RULER_USERNAME: "1" });
    expect(half.stderr).toContain("RULER_PASSWORD is not set");
    const legacy = await runTool("tools/upload-rules.ts", { ...env, RULER_URL: `${env.RULER_URL}/api/prom` });
    expect(legacy.code).toBe(1);
    expect(legacy.stderr).toContain(`RULER_URL is the address without a path`);
    expect(ruler.requests).toHaveLength(0);
  });

  it("acts only on its own namespace: an empty or invalid one, an answer that is not its rule file, a redirect", async () => {
    for (const namespace of ["", "../x", "a/b"]) {
      const ruler = (await fakeRuler({ other: [{ name: "theirs", rules: [] }] })).server;
      server = ruler;
      const result = await runTool("tools/upload-rules.ts", env, ["--namespace", namespace]);
      expect(result.code, namespace).toBe(1);
      expect(result.stderr).toContain("is not a valid ruler namespace");
      expect(ruler.requests).toHaveLength(0);
      await ruler.close();
      server = undefined;
    }
    const answers: Record<
      string,
      { status: number; body: string; contentType?: string; headers?: Record<string, string> }
    > = {
      html: { status: 200, body: "<html>login</html>", contentType: "text/html" },
      others: {
        status: 200,
        body: stringify({
          "zander-edge": [{ name: "stale", rules: [] }],
          other: [{ name: "theirs", rules: [] }],
        }),
      },
    };
    for (const [name, answer] of Object.entries(answers)) {
      const ruler = await startRecordingServer(PORT, () => answer);
      server = ruler;
      const result = await runTool("tools/upload-rules.ts", env);
      expect(result.code, name).toBe(1);
      expect(result.stderr, name).toMatch(/not a rule file|other namespaces/);
      expect(changes(ruler), name).toHaveLength(0);
      await ruler.close();
      server = undefined;
    }
    // A DELETE answered with a redirect is not followed into another namespace.
    const ruler = await startRecordingServer(PORT, (r) =>
      r.method === "GET"
        ? { status: 200, body: stringify({ "zander-edge": [{ name: "stale", rules: [] }] }) }
        : r.method === "DELETE"
          ? { status: 307, body: "", headers: { location: "/prometheus/config/v1/rules/other/theirs" } }
          : { status: 202, body: "{}" },
    );
    server = ruler;
    const result = await runTool("tools/upload-rules.ts", env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("not followed");
    expect(ruler.requests.filter((r) => r.url.includes("/other"))).toHaveLength(0);
  });

  it("refuses a file that is not a rule file, naming it, before uploading anything", async () => {
    const ruler = (await fakeRuler()).server;
    server = ruler;
    const result = await runTool("tools/upload-rules.ts", env, ["collector/alertmanager.yml"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("collector/alertmanager.yml is not a Prometheus rule file");
    expect(changes(ruler)).toHaveLength(0);
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
