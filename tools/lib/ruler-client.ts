import { parse, stringify } from "yaml";
import type { RuleGroup } from "./rule-groups.ts";

export interface RulerConnection {
  /** The stack's address as Grafana Cloud shows it, e.g. https://prometheus-prod-NN-prod-REGION.grafana.net. */
  address: string;
  username?: string;
  password?: string;
  /** X-Scope-OrgID, for a self-hosted multi-tenant Mimir. */
  tenantId?: string;
}

/** What to check for the answers operators hit, named by status. */
const HINTS: Record<number, string> = {
  401: "check RULER_USERNAME (the stack's Prometheus instance id, a number) and RULER_PASSWORD (an access policy token of that stack)",
  403: "the token's access policy needs the rules:read and rules:write scopes for this stack",
  404: "check RULER_URL: the stack's Prometheus address as Grafana Cloud shows it (https://prometheus-prod-NN-prod-REGION.grafana.net, no path); on self-hosted Mimir the ruler must be enabled",
};

/** A namespace the sync may own: Mimir's rule namespaces are path segments; an empty one would list them all. */
export const NAMESPACE_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

/** Each request is aborted after this long: a hung ruler must not hang the command. */
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * The namespace part of Mimir's ruler configuration API, as mimirtool calls it:
 * `<address>/prometheus/config/v1/rules/<namespace>[/<group>]`. Every failure throws an Error with the method,
 * URL, status, the server's answer and, for 401/403/404, what to check.
 */
export class RulerClient {
  private readonly base: string;
  private readonly headers: Record<string, string>;

  private readonly namespace: string;

  constructor(connection: RulerConnection, namespace: string) {
    this.namespace = namespace;
    if (!NAMESPACE_PATTERN.test(namespace) || namespace === "." || namespace === "..") {
      throw new Error(
        `namespace ${JSON.stringify(namespace)} is not a valid ruler namespace: 1 to 128 of [A-Za-z0-9_.:-]`,
      );
    }
    this.base = `${connection.address.replace(/\/+$/, "")}/prometheus/config/v1/rules/${encodeURIComponent(namespace)}`;
    this.headers = {};
    if (connection.username !== undefined || connection.password !== undefined) {
      const credentials = `${connection.username ?? ""}:${connection.password ?? ""}`;
      this.headers.authorization = `Basic ${Buffer.from(credentials).toString("base64")}`;
    }
    if (connection.tenantId) this.headers["x-scope-orgid"] = connection.tenantId;
  }

  /** The groups the ruler holds in the namespace (none when it answers "no rule groups found"). */
  async groups(): Promise<RuleGroup[]> {
    const { status, body } = await this.send("GET", this.base);
    // Mimir answers 404 "no rule groups found" for an empty namespace; any other 404 is a wrong address.
    if (status === 404 && /no rule groups found/i.test(body)) return [];
    this.check("GET", this.base, status, body);
    return this.ruleFile(body);
  }

  /**
   * The groups of this namespace's answer, checked: a YAML map whose only key is this namespace (any other key is
   * another namespace: never acted on), holding a list of groups each with a string name and a rules list.
   */
  private ruleFile(body: string): RuleGroup[] {
    let parsed: unknown;
    try {
      parsed = parse(body);
    } catch {
      throw new Error(`GET ${this.base}: the answer is not YAML: ${body.slice(0, 200)}`);
    }
    if (parsed === null || parsed === undefined) return [];
    if (typeof parsed !== "object" || Array.isArray(parsed)) {
      throw new Error(
        `GET ${this.base}: the answer is not a rule file (a map of namespaces): ${body.slice(0, 200)}`,
      );
    }
    const other = Object.keys(parsed).filter((k) => k !== this.namespace);
    if (other.length > 0) {
      throw new Error(
        `GET ${this.base}: the ruler answered other namespaces too (${other.join(", ")}); refusing to act`,
      );
    }
    const groups = (parsed as Record<string, unknown>)[this.namespace] ?? [];
    if (
      !Array.isArray(groups) ||
      !groups.every(
        (g) =>
          typeof g === "object" &&
          g !== null &&
          typeof (g as RuleGroup).name === "string" &&
          (g as RuleGroup).name.length > 0 &&
          Array.isArray((g as RuleGroup).rules),
      )
    ) {
      throw new Error(
        `GET ${this.base}: the answer's groups are not rule groups (name, rules): ${body.slice(0, 200)}`,
      );
    }
    return groups as RuleGroup[];
  }

  async put(group: RuleGroup): Promise<void> {
    const { status, body } = await this.send("POST", this.base, stringify(group));
    this.check("POST", this.base, status, body, `rule group ${group.name}`);
  }

  async delete(name: string): Promise<void> {
    const url = `${this.base}/${encodeURIComponent(name)}`;
    const { status, body } = await this.send("DELETE", url);
    this.check("DELETE", url, status, body, `rule group ${name}`);
  }

  private async send(method: string, url: string, body?: string): Promise<{ status: number; body: string }> {
    try {
      const res = await fetch(url, {
        method,
        headers: { ...this.headers, ...(body === undefined ? {} : { "content-type": "application/yaml" }) },
        body,
        // A redirect is never followed: a write must land on this namespace's URL or nowhere.
        redirect: "manual",
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      return { status: res.status, body: await res.text() };
    } catch (err) {
      const cause =
        (err as Error).cause instanceof Error ? ` (${((err as Error).cause as Error).message})` : "";
      throw new Error(`${method} ${url} failed: ${(err as Error).message}${cause}`);
    }
  }

  private check(method: string, url: string, status: number, body: string, what = "rules"): void {
    if (status >= 200 && status < 300) return;
    if (status >= 300 && status < 400) {
      throw new Error(
        `${what}: ${method} ${url} answered a redirect (${status}); not followed: set RULER_URL to the final address`,
      );
    }
    const hint = HINTS[status] ? `\n  ${HINTS[status]}` : "";
    throw new Error(`${what}: ${method} ${url} answered ${status}: ${body.slice(0, 500).trim()}${hint}`);
  }
}
