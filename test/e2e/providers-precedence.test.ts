/**
 * Traefik v3.7's `providers.precedence` (pkg/muxer/http/mux.go routes.Less, PR #12895): two
 * routers with the same priority from different providers are tried in the order of their
 * providers in the list, whose default puts `file` before `rest`. Here a file router `z` and a
 * REST router `a` have the same rule (the same default priority): the file one answers by
 * default, whatever their names, and the REST one once `rest` is listed first. The same for two
 * TCP routers ``HostSNI(`*`)`` with the same priority (Traefik v3.7's TCP router manager hands its
 * muxer the router's provider too).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { httpRequest } from '../helpers/http-request.ts';
import { startBannerServer, type TcpBackend, tcpExchange } from '../helpers/l4.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { untilApplied } from '../helpers/wait.ts';

describe('providers.precedence', () => {
  let fromFile: Backend;
  let fromRest: Backend;
  let tcpFile: TcpBackend;
  let tcpRest: TcpBackend;
  const proxies: ProxyProcess[] = [];
  before(async () => {
    fromFile = await startBackend((_req, res) => res.end('file'));
    fromRest = await startBackend((_req, res) => res.end('rest'));
    tcpFile = await startBannerServer('tcp-file\n');
    tcpRest = await startBannerServer('tcp-rest\n');
  });
  after(async () => {
    for (const p of proxies) await p.stop();
    await fromFile?.close();
    await fromRest?.close();
    await tcpFile?.close();
    await tcpRest?.close();
  });

  /** A proxy with the file router `z` and, pushed through the REST API, the router `a`. */
  async function start(precedence: string): Promise<ProxyProcess> {
    const proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  traefik:
    address: "127.0.0.1:0"
  db:
    address: "127.0.0.1:0"
providers:
${precedence}  rest:
    insecure: true
  file:
    filename: dynamic.yaml
`,
      files: {
        'dynamic.yaml': `http:
  routers:
    z:
      rule: "Host(\`same.example\`)"
      service: app
      entryPoints: [web]
  services:
    app:
      loadBalancer:
        servers:
          - url: "${fromFile.url}"
tcp:
  routers:
    z:
      rule: "HostSNI(\`*\`)"
      priority: 10
      service: db
      entryPoints: [db]
  services:
    db:
      loadBalancer:
        servers:
          - address: "${tcpFile.address}"
`,
      },
    });
    proxies.push(proxy);
    const from = proxy.logs.length;
    const pushed = await httpRequest(proxy.ports.traefik!, {
      method: 'PUT',
      path: '/api/providers/rest',
      body: JSON.stringify({
        http: {
          routers: {
            a: { rule: 'Host(`same.example`)', service: 'app', entryPoints: ['web'] },
            ready: { rule: 'Host(`ready.example`)', service: 'app', entryPoints: ['web'] },
          },
          services: { app: { loadBalancer: { servers: [{ url: fromRest.url }] } } },
        },
        tcp: {
          routers: { a: { rule: 'HostSNI(`*`)', priority: 10, service: 'db', entryPoints: ['db'] } },
          services: { db: { loadBalancer: { servers: [{ address: tcpRest.address }] } } },
        },
      }),
    });
    assert.equal(pushed.status, 200);
    await untilApplied(proxy, from, async () => (await get(proxy, 'ready.example')).status === 200);
    return proxy;
  }

  const get = (proxy: ProxyProcess, host: string) =>
    httpRequest(proxy.ports.web!, { method: 'GET', path: '/', headers: { host } });
  /** The banner of the TCP server the `db` entry point's router picked. */
  const banner = async (proxy: ProxyProcess) =>
    (await tcpExchange(proxy.ports.db!, null, { untilData: '\n' })).data.toString();

  it('tries the file router before the REST one by default, whatever their names', async () => {
    const proxy = await start('');
    const r = await get(proxy, 'same.example');
    assert.deepEqual([r.status, r.text], [200, 'file']);
    assert.equal(await banner(proxy), 'tcp-file\n');
  });

  it('tries the REST router first once `rest` comes first (names matched without case)', async () => {
    const proxy = await start('  precedence: [REST, file]\n');
    const r = await get(proxy, 'same.example');
    assert.deepEqual([r.status, r.text], [200, 'rest']);
    assert.equal(await banner(proxy), 'tcp-rest\n');
  });
});
