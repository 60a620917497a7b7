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

/**
 * The namespace part of Mimir's ruler configuration API, as mimirtool calls it:
 * `<address>/prometheus/config/v1/rules/<namespace>[/<group>]`. Every failure throws an Error with the method,
 * URL, status, the server's answer and, for 401/403/404, what to check.
 */
export class RulerClient {
  private readonly base: string;
  private readonly headers: Record<string, string>;

  constructor(connection: RulerConnection, namespace: string) {
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
    const parsed = parse(body) as Record<string, RuleGroup[]> | null;
    return Object.values(parsed ?? {}).flat();
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
    const hint = HINTS[status] ? `\n  ${HINTS[status]}` : "";
    throw new Error(`${what}: ${method} ${url} answered ${status}: ${body.slice(0, 500).trim()}${hint}`);
  }
}
