/**
 * Traefik GO-2024-2917 (GHSA-7f4j-64p6-5h5v's class, v2.11.4/v3.0.2): IPv4 clients of a
 * dual-stack socket appear as IPv4-mapped IPv6 addresses (::ffff:127.0.0.1), which IPv4 ranges
 * must match as the IPv4 address they are, neither more nor less. The entry point here listens
 * on ::ffff:127.0.0.1 (an IPv6 socket that IPv4 loopback clients reach, nothing beyond loopback):
 * ipAllowList and forwardedHeaders.trustedIPs read the client as 127.0.0.1, and the backend
 * sees 127.0.0.1 in X-Forwarded-For and X-Real-Ip.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { rawRequest } from '../helpers/raw-client.ts';

describe('IPv4 clients seen as IPv4-mapped IPv6 addresses (GO-2024-2917)', () => {
  let backend: Backend;
  let proxy: ProxyProcess;

  before(async () => {
    backend = await startBackend((req, res) =>
      res.end(`xff=${req.headers['x-forwarded-for'] ?? ''} real=${req.headers['x-real-ip'] ?? ''}`),
    );
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "[::ffff:127.0.0.1]:0"
    forwardedHeaders: { trustedIPs: ["127.0.0.1/32"] }
http:
  routers:
    open: { rule: "PathPrefix(\`/open\`)", service: be, middlewares: [loopback] }
    closed: { rule: "PathPrefix(\`/closed\`)", service: be, middlewares: [ten] }
    mapped: { rule: "PathPrefix(\`/mapped\`)", service: be, middlewares: [v6only] }
  middlewares:
    loopback: { ipAllowList: { sourceRange: ["127.0.0.1/32"] } }
    ten: { ipAllowList: { sourceRange: ["10.0.0.0/8"] } }
    v6only: { ipAllowList: { sourceRange: ["::1/128"] } }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`,
    });
  });

  after(async () => {
    await proxy?.stop();
    await backend?.close();
  });

  const get = async (path: string, extra = ''): Promise<{ status: number; body: string }> => {
    const r = await rawRequest(proxy.ports['web']!, `GET ${path} HTTP/1.1\r\nHost: a.test\r\n${extra}\r\n`, {
      responses: 1,
      timeoutMs: 5000,
    });
    return { status: r.responses[0]?.status ?? 0, body: r.responses[0]?.body.toString() ?? '' };
  };

  it('matches IPv4 ranges as the IPv4 address, and no other', async () => {
    assert.equal((await get('/open')).status, 200);
    assert.equal((await get('/closed')).status, 403);
    assert.equal((await get('/mapped')).status, 403, '::ffff:127.0.0.1 is not ::1');
  });

  it('trusts the forwarded fields of a trusted IPv4 range and names the client by its IPv4 address', async () => {
    const r = await get('/open', 'X-Forwarded-For: 203.0.113.7\r\n');
    assert.equal(r.status, 200);
    // X-Real-Ip is the peer when the client sent none (Traefik's forwardedheaders rewrite), and
    // the peer is 127.0.0.1 as Go's net reports an IPv4-mapped address, never ::ffff:127.0.0.1.
    assert.equal(r.body, 'xff=203.0.113.7, 127.0.0.1 real=127.0.0.1');
  });
});
