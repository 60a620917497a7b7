import { createServer, type IncomingHttpHeaders } from "node:http";

export interface RecordedRequest {
  method: string;
  /** Path and query, as the client sent it. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** Date.now() when the request arrived. */
  at: number;
}

export interface Reply {
  status: number;
  body?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

export interface RecordingServer {
  url: string;
  requests: RecordedRequest[];
  /** Resolves with the first recorded request (past or future) that matches, or rejects after timeoutMs. */
  waitFor(match: (r: RecordedRequest) => boolean, timeoutMs: number): Promise<RecordedRequest>;
  close(): Promise<void>;
}

/**
 * A local HTTP server on 127.0.0.1 that records every request and answers what `reply` returns: the fake
 * Grafana and ruler of the upload tests, and the webhook receiver Alertmanager notifies in the alert tests.
 */
export async function startRecordingServer(
  port: number,
  reply: (request: RecordedRequest) => Reply = () => ({ status: 200 }),
): Promise<RecordingServer> {
  const requests: RecordedRequest[] = [];
  const waiters = new Set<() => void>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const recorded: RecordedRequest = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        at: Date.now(),
      };
      requests.push(recorded);
      const { status, body = "", contentType = "application/json", headers } = reply(recorded);
      res.writeHead(status, { "content-type": contentType, ...headers }).end(body);
      for (const wake of waiters) wake();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  const waitFor = (match: (r: RecordedRequest) => boolean, timeoutMs: number) =>
    new Promise<RecordedRequest>((resolve, reject) => {
      const check = () => {
        const found = requests.find(match);
        if (!found) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve(found);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no matching request within ${timeoutMs} ms; got ${requests.length} requests`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    waitFor,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
