/**
 * Routers that name no entry point when only the `traefik` entry point, or only a UDP one, is
 * marked `asDefault`: Traefik's getDefaultsEntrypoints (cmd/traefik/traefik.go) keeps the marked
 * ones, then leaves out `traefik` and the UDP ones, so there is no default entry point; its
 * mergeConfiguration (pkg/server/aggregator.go) gives the routers that empty list, and
 * GetRoutersByEntryPoints / GetTCPRoutersByEntryPoints (pkg/config/runtime) disable them: "no
 * valid entryPoint for this router". Ours put them on every TCP entry point.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startEchoServer, type TcpBackend, tcpExchange } from '../helpers/l4.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

const config = (marked: 'traefik' | 'dns', echoPort: number) => `entryPoints:
  web:
    address: "127.0.0.1:0"
  raw:
    address: "127.0.0.1:0"
  dns:
    address: "127.0.0.1:0/udp"${marked === 'dns' ? '\n    asDefault: true' : ''}
  traefik:
    address: "127.0.0.1:0"${marked === 'traefik' ? '\n    asDefault: true' : ''}
api: {}
http:
  routers:
    plain:
      rule: PathPrefix(\`/\`)
      service: noop@internal
    named:
      rule: PathPrefix(\`/named\`)
      service: noop@internal
      entryPoints: [web]
tcp:
  routers:
    any:
      rule: HostSNI(\`*\`)
      service: echo
    rawonly:
      rule: HostSNI(\`*\`)
      service: echo
      entryPoints: [raw]
  services:
    echo:
      loadBalancer:
        servers:
          - address: "127.0.0.1:${echoPort}"
`;

for (const marked of ['traefik', 'dns'] as const) {
  describe(`no default entry point with only \`${marked}\` marked asDefault (e2e)`, () => {
    let proxy: ProxyProcess;
    let echo: TcpBackend;

    before(async () => {
      echo = await startEchoServer();
      proxy = await startProxy({ config: config(marked, echo.port) });
    });

    after(async () => {
      await proxy?.stop();
      await echo?.close();
    });

    const api = async (path: string): Promise<Record<string, unknown>> => {
      const r = await fetch(`http://127.0.0.1:${proxy.ports['traefik']}/api/${path}`);
      assert.equal(r.status, 200, path);
      return (await r.json()) as Record<string, unknown>;
    };
    const status = (port: number, path: string): Promise<number> =>
      new Promise((resolve, reject) => {
        request({ port, host: '127.0.0.1', path, agent: false }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
          .on('error', reject)
          .end();
      });

    it('disables the HTTP and TCP routers without entryPoints, "no valid entryPoint for this router"', async () => {
      for (const path of ['http/routers/plain@file', 'tcp/routers/any@file']) {
        const r = await api(path);
        assert.equal(r['status'], 'disabled', path);
        assert.ok(
          JSON.stringify(r['error'] ?? r['issues']).includes('no valid entryPoint for this router'),
          `${path}: ${JSON.stringify(r)}`,
        );
      }
      for (const path of ['http/routers/named@file', 'tcp/routers/rawonly@file']) {
        assert.equal((await api(path))['status'], 'enabled', path);
      }
    });

    it('serves neither on any entry point; the routers that name theirs still serve', async () => {
      // web: only the router naming it (noop@internal answers 418); `/` is no router's.
      assert.equal(await status(proxy.ports['web']!, '/named'), 418);
      assert.equal(await status(proxy.ports['web']!, '/'), 404);
      // raw: the TCP router naming it echoes.
      const r = await tcpExchange(proxy.ports['raw']!, 'hello', { untilData: 'hello', ms: 5_000 });
      assert.equal(r.data.toString(), 'hello');
    });
  });
}
