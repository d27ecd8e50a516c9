/** Real HTTP backends for e2e tests: node:http servers on 127.0.0.1, port 0. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Backend {
  readonly server: Server;
  readonly port: number;
  readonly url: string;
  /** Requests seen so far (method, url, headers). */
  readonly seen: { method: string; url: string; headers: IncomingMessage['headers']; rawHeaders: string[] }[];
  close(): Promise<void>;
}

export async function startBackend(
  handler: (req: IncomingMessage, res: ServerResponse) => void = (req, res) => {
    res.end(`${req.method} ${req.url}`);
  },
): Promise<Backend> {
  const seen: Backend['seen'] = [];
  const server = createServer((req, res) => {
    seen.push({
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      rawHeaders: req.rawHeaders,
    });
    handler(req, res);
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A static + dynamic config with one entry point on port 0 and one router to `servers`. */
export function simpleConfig(servers: readonly string[], extra = ''): string {
  return `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: DEBUG }
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: be }
  services:
    be:
      loadBalancer:
        servers:
${servers.map((u) => `          - url: "${u}"`).join('\n')}
${extra}`;
}
