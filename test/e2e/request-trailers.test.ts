/**
 * Request trailers (HTTP/2 trailers, forwarded to an HTTP/2 backend) get the entry point's
 * header defenses too: from an untrusted client, the forwarding fields Traefik manages
 * (X-Forwarded-*, X-Real-Ip, Forwarded) are dropped, and `aliasHeadersStrategy` deletes the
 * aliasing names (`delete`) or refuses the request (`reject`). Traefik before v3.7.13
 * (GHSA-v67p-phpq-fc8x, CVE-2026-88004) checked the head only: a backend that merges trailers
 * into its headers read the client's spoofed values. (HTTP/1.1 chunked trailers are never
 * forwarded: nothing to check there; nor are HTTP/2 trailers with the fallback engine,
 * http2Engine: node, which drops them.)
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { engineEnv } from '../helpers/h2-engines.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

interface Seen {
  readonly path: string;
  readonly trailers: Record<string, string | string[] | undefined>;
  /**
   * The stream was reset (RST_STREAM). Node's compat request ends ('end') on a reset before it
   * says 'aborted', so an entry is a complete request only while this stays false.
   */
  readonly reset: () => boolean;
}

/** Sends `/path` with a body and `trailers` over h2c; the status (or the error code). */
function postWithTrailers(
  port: number,
  path: string,
  trailers: Record<string, string>,
  beforeTrailers: Promise<void> = Promise.resolve(),
): Promise<number | string> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  return new Promise<number | string>((resolve) => {
    session.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    const req = session.request({ ':method': 'POST', ':path': path }, { waitForTrailers: true });
    req.on('wantTrailers', () => void beforeTrailers.then(() => req.sendTrailers(trailers)));
    req.on('response', (h) => resolve(Number(h[':status'])));
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    req.resume();
    req.end('abc');
  }).finally(() => session.close());
}

describe('request trailers through the entry point defenses (GHSA-v67p-phpq-fc8x)', () => {
  let backend: http2.Http2Server;
  const seen: Seen[] = [];
  /** Resolvers called when the backend has the head of a request for that path. */
  const headSeen = new Map<string, () => void>();
  let proxy: ProxyProcess;

  before(async () => {
    backend = http2.createServer((req, res) => {
      headSeen.get(req.url)?.();
      req.resume();
      req.on('end', () => {
        seen.push({ path: req.url, trailers: { ...req.trailers }, reset: () => req.aborted });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    const port = (backend.address() as AddressInfo).port;
    proxy = await startProxy({
      env: engineEnv('own'),
      config: `entryPoints:
  keep:
    address: "127.0.0.1:0"
    http: { aliasHeadersStrategy: keep }
  del:
    address: "127.0.0.1:0"
    http: { aliasHeadersStrategy: delete }
  rej:
    address: "127.0.0.1:0"
    http: { aliasHeadersStrategy: reject }
  trusted:
    address: "127.0.0.1:0"
    http: { aliasHeadersStrategy: keep }
    forwardedHeaders: { trustedIPs: ["127.0.0.1/32"] }
log: { level: INFO }
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: h2 }
  services:
    h2: { loadBalancer: { servers: [{ url: "h2c://127.0.0.1:${port}" }] } }
`,
    });
  });
  after(async () => {
    await proxy?.stop();
    await new Promise<void>((r) => backend.close(() => r()));
  });

  const SPOOF = {
    'x-forwarded-for': '6.6.6.6',
    'x-real-ip': '6.6.6.6',
    x_auth_user: 'mallory',
    'x.auth.user': 'mallory',
    'x-ok': 'kept',
  };

  async function via(ep: string, path: string): Promise<{ status: number | string; seen: Seen | undefined }> {
    const status = await postWithTrailers(proxy.ports[ep]!, path, SPOOF);
    return { status, seen: seen.find((s) => s.path === path) };
  }

  it('drops forwarding fields an untrusted client sends as trailers; keeps the others (keep)', async () => {
    const { status, seen: s } = await via('keep', '/keep');
    assert.equal(status, 200);
    assert.equal(s?.trailers['x-ok'], 'kept');
    assert.equal(s?.trailers['x-forwarded-for'], undefined);
    assert.equal(s?.trailers['x-real-ip'], undefined);
    assert.equal(s?.trailers.x_auth_user, 'mallory', 'keep forwards aliasing names, as in the head');
  });

  it('delete: aliasing trailer names are removed as head fields are', async () => {
    const { status, seen: s } = await via('del', '/del');
    assert.equal(status, 200);
    assert.deepEqual(
      Object.keys(s?.trailers ?? {}).filter((n) => !n.startsWith(':')),
      ['x-ok'],
      JSON.stringify(s?.trailers),
    );
  });

  it('reject: a request with an aliasing trailer name does not reach the backend whole', async () => {
    // The trailers leave the client once the backend has the head (and DATA): the proxy must
    // then reset the backend's stream, not end it. A later request on the same pooled backend
    // connection is read after that reset.
    const head = new Promise<void>((r) => headSeen.set('/rej', r));
    const bounded = Promise.race([head, new Promise<void>((r) => setTimeout(r, 5000).unref())]);
    const status = await postWithTrailers(proxy.ports.rej!, '/rej', SPOOF, bounded);
    assert.equal(status, 400);
    assert.equal((await via('keep', '/after-rej')).status, 200);
    const s = seen.find((x) => x.path === '/rej');
    assert.ok(
      s === undefined || s.reset(),
      `the backend saw a complete request: ${JSON.stringify(s?.trailers)}`,
    );
  });

  it('keeps the forwarding fields of a trusted peer', async () => {
    const { status, seen: s } = await via('trusted', '/trusted');
    assert.equal(status, 200);
    assert.equal(s?.trailers['x-forwarded-for'], '6.6.6.6');
  });
});
