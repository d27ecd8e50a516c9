/**
 * Traefik's integration/http_test.go (v3 branch) run against our proxy. Fixture:
 * integration/fixtures/http/simple.toml adapted by ./fixture.ts (its endpoint's fixed port 9000 a
 * free loopback port; `[api] insecure` kept, on the fixture's own `traefik` entry point).
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, describe, it } from 'node:test';
import { freePort } from '../../helpers/free-port.ts';
import { httpRequest } from '../../helpers/http-request.ts';
import { startFixture } from './fixture.ts';

const open: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const close of open.reverse()) await close();
});

describe('traefik integration/http_test.go', () => {
  it('TestSimpleConfiguration: 404 before the endpoint answers, then its routers and services are applied', async () => {
    const port = await freePort();
    const p = await startFixture(
      `[log]
  level = "DEBUG"

[entryPoints]
  [entryPoints.web]
    address = ":8000"
  [entryPoints.traefik]
    address = ":9090"

[api]
  dashboard = false
  insecure = true

[providers]
  providersThrottleDuration = "100ms"
  [providers.http]
    endpoint = "http://127.0.0.1:{{ .Port }}"
    pollInterval = "100ms"
`,
      { Port: String(port) },
    );
    open.push(() => p.stop());
    assert.equal((await httpRequest(p.ports.web!)).status, 404);
    // The configuration the Go test marshals from dynamic.Configuration.
    const body = JSON.stringify({
      http: {
        routers: {
          routerHTTP: {
            entryPoints: ['web'],
            middlewares: [],
            service: 'serviceHTTP',
            rule: 'PathPrefix(`/`)',
          },
        },
        services: {
          serviceHTTP: { loadBalancer: { passHostHeader: true, servers: [{ url: 'http://bacon:80' }] } },
        },
      },
    });
    const server = createServer((_req, res) => res.end(body));
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    open.push(
      () =>
        new Promise<void>((r) => {
          server.closeAllConnections();
          server.close(() => r());
        }),
    );
    let raw = '';
    for (let i = 0; i < 100; i++) {
      raw = (await httpRequest(p.ports.traefik!, { path: '/api/rawdata' })).text;
      if (raw.includes('routerHTTP@http')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    for (const s of ['routerHTTP@http', 'serviceHTTP@http', 'http://bacon:80'])
      assert.ok(raw.includes(s), `${s} in ${raw}`);
  });
});
