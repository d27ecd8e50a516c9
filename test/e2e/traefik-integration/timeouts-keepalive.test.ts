/**
 * Traefik's integration/timeout_test.go and integration/keepalive_test.go (v3 branch) run against
 * our proxy, one describe per Go file; fixtures are integration/fixtures/timeout/*.toml adapted by
 * ./fixture.ts.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { httpRequest } from '../../helpers/http-request.ts';
import { within } from '../../helpers/wait.ts';
import { startFixture } from './fixture.ts';

const open: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const close of open.reverse()) await close();
});

describe('traefik integration/timeout_test.go', () => {
  // integration/fixtures/timeout/forwarding_timeouts.toml, without its /dialTimeout router (its
  // server is a non-routable address off loopback).
  it('TestForwardingTimeouts: a backend slower than responseHeaderTimeout is a 504', async () => {
    const slow = createServer((req, res) => {
      const sleep = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('sleep') ?? '0');
      setTimeout(() => res.end('late'), sleep);
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    open.push(
      () =>
        new Promise((r) => {
          slow.closeAllConnections();
          slow.close(r);
        }),
    );
    const url = `http://127.0.0.1:${(slow.address() as AddressInfo).port}`;
    const p = await startFixture(
      `[entryPoints]
  [entryPoints.web]
    address = ":8000"

[serversTransport.forwardingTimeouts]
  dialTimeout = "300ms"
  responseHeaderTimeout = "300ms"

[providers.file]
  filename = "{{ .SelfFilename }}"

[http.routers]
  [http.routers.router2]
    service = "service2"
    rule = "Path(\`/responseHeaderTimeout\`)"

[http.services]
  [http.services.service2.loadBalancer]
    [[http.services.service2.loadBalancer.servers]]
      url = "{{ .TimeoutEndpoint }}"
`,
      { TimeoutEndpoint: url },
    );
    open.push(() => p.stop());
    const r = await httpRequest(p.ports.web!, { path: '/responseHeaderTimeout?sleep=1000' });
    assert.equal(r.status, 504);
  });
});

describe('traefik integration/keepalive_test.go', () => {
  // integration/fixtures/timeout/keepalive.toml
  it("TestShouldRespectConfiguredBackendHttpKeepAliveTime: the backend's one idle connection is closed by idleConnTimeout", async () => {
    let connections = 0;
    let closed!: () => void;
    const allClosed = new Promise<void>((r) => {
      closed = r;
    });
    const server = createServer((_req, res) => res.end());
    server.keepAliveTimeout = 60_000; // the proxy, not the backend, must close it
    server.on('connection', (s) => {
      connections++;
      s.on('close', () => closed());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    open.push(
      () =>
        new Promise((r) => {
          server.closeAllConnections();
          server.close(r);
        }),
    );
    const p = await startFixture(
      `[entryPoints]
  [entryPoints.web]
    address = ":8000"

[serversTransport]
  maxIdleConnsPerHost = 1
  [serversTransport.forwardingTimeouts]
    idleConnTimeout = "{{ .IdleConnTimeout }}"

[providers.file]
  filename = "{{ .SelfFilename }}"

[http.routers]
  [http.routers.router]
    service = "keepalive"
    rule = "PathPrefix(\`/keepalive\`)"

[http.services]
  [http.services.keepalive.loadBalancer]
    [[http.services.keepalive.loadBalancer.servers]]
      url = "{{ .KeepAliveServer }}"
`,
      {
        IdleConnTimeout: '75ms',
        KeepAliveServer: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      },
    );
    open.push(() => p.stop());
    assert.equal((await httpRequest(p.ports.web!, { path: '/keepalive' })).status, 200);
    // Bounded well under the default idleConnTimeout (90 s): only the configured one closes it.
    await within(allClosed, 'the idle backend connection closed', 5000);
    assert.equal(connections, 1);
  });
});
