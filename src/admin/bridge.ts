/**
 * The admin server's private listener: loopback, an ephemeral port, reached only by the proxy's
 * internal services (runtime/internal-services.ts), which forward to it like to any server.
 * node:http is loaded here, on demand: it costs ~17 MB of resident memory that a proxy without
 * an API, ping or metrics should not pay.
 */
import type { AdminServer } from './admin-server.ts';
import { sendError } from './http-io.ts';

export interface Bridge {
  readonly host: string;
  readonly port: number;
  /** The handler; until it is attached, requests get 503 (the proxy is still starting). */
  attach(admin: AdminServer): void;
  close(): Promise<void>;
}

/** Longer than the internal services' pool keeps an idle socket: the pool always lets go first. */
const KEEP_ALIVE_MS = 60_000;

export async function listenBridge(): Promise<Bridge> {
  const { createServer } = await import('node:http');
  let admin: AdminServer | null = null;
  const server = createServer((req, res) => {
    if (admin !== null) admin.handle(req, res);
    else {
      req.resume();
      sendError(res, 503, 'the admin server is starting');
    }
  });
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.headersTimeout = KEEP_ALIVE_MS + 5_000;
  const host = '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: 0 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const a = server.address();
  if (a === null || typeof a === 'string') throw new Error('the admin bridge has no address');
  return {
    host,
    port: a.port,
    attach: (s) => {
      admin = s;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
