/**
 * Sends one request of an upload command and returns the response body. A non-2xx answer throws an error
 * naming the request and quoting the server's answer, which is what an operator needs to fix credentials or
 * payloads.
 */
export async function requestOk(what: string, url: string, init: RequestInit): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch (err) {
    const cause =
      (err as Error).cause instanceof Error ? ` (${((err as Error).cause as Error).message})` : "";
    throw new Error(`${what}: ${init.method ?? "GET"} ${url} failed: ${(err as Error).message}${cause}`);
  }
  const body = await res.text();
  if (!res.ok) {
    throw new Error(`${what}: ${init.method ?? "GET"} ${url} answered ${res.status}: ${body.slice(0, 500)}`);
  }
  return body;
}

/** The value of a required environment variable, or an error naming it and what it is for. */
export function requiredEnv(name: string, what: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: ${what}`);
  return value;
}
