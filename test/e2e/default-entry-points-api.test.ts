/**
 * The entry points of routers that name none, with an entry point marked `asDefault`: Traefik
 * (cmd/traefik/traefik.go getDefaultsEntrypoints) puts HTTP and TCP routers alike on the marked
 * ones only (pkg/server/aggregator.go mergeConfiguration), and the API shows them there
 * (`entryPoints`, `using`). Our TCP routers were put, and shown, on every entry point.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startEchoServer, type TcpBackend, tcpExchange } from '../helpers/l4.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

describe('default entry points with asDefault: HTTP and TCP routers, and the API (e2e)', () => {
  let proxy: ProxyProcess;
  let echo: TcpBackend;

  before(async () => {
    echo = await startEchoServer();
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  websecure:
    address: "127.0.0.1:0"
    asDefault: true
  dns:
    address: "127.0.0.1:0/udp"
  traefik:
    address: "127.0.0.1:0"
api: {}
http:
  routers:
    plain:
      rule: PathPrefix(\`/\`)
      service: noop@internal
tcp:
  routers:
    any:
      rule: HostSNI(\`*\`)
      service: echo
  services:
    echo:
      loadBalancer:
        servers:
          - address: "127.0.0.1:${echo.port}"
`,
    });
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

  it('shows an HTTP and a TCP router without entryPoints on the asDefault entry point only', async () => {
    for (const path of ['http/routers/plain@file', 'tcp/routers/any@file']) {
      const r = await api(path);
      assert.deepEqual(r['entryPoints'], ['websecure'], path);
      assert.deepEqual(r['using'], ['websecure'], path);
    }
    const list = (await api('tcp/routers')) as unknown as { name: string; using: string[] }[];
    assert.deepEqual(
      list.map((r) => [r.name, r.using]),
      [['any@file', ['websecure']]],
    );
  });

  it('serves the TCP router on the asDefault entry point, not on the other one', async () => {
    const r = await tcpExchange(proxy.ports['websecure']!, 'hello', { untilData: 'hello', ms: 5_000 });
    assert.equal(r.data.toString(), 'hello');
    // On web, neither router: an HTTP request is answered 404, not echoed.
    const status = await new Promise<number>((resolve, reject) => {
      request({ port: proxy.ports['web'], host: '127.0.0.1', path: '/', agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
        .on('error', reject)
        .setTimeout(5_000, function (this: { destroy(e: Error): void }) {
          this.destroy(new Error('timeout'));
        })
        .end();
    });
    assert.equal(status, 404);
  });
});

describe('default entry points in the API: sorted by name, as Traefik`s getDefaultsEntrypoints (e2e)', () => {
  for (const [title, marked] of [
    ['none marked', false],
    ['both marked', true],
  ] as const) {
    describe(title, () => {
      let proxy: ProxyProcess;
      before(async () => {
        const mark = marked ? '\n    asDefault: true' : '';
        proxy = await startProxy({
          config: `entryPoints:
  zeta:
    address: "127.0.0.1:0"${mark}
  alpha:
    address: "127.0.0.1:0"${mark}
${marked ? '  other:\n    address: "127.0.0.1:0"\n' : ''}  traefik:
    address: "127.0.0.1:0"
api: {}
http:
  routers:
    plain:
      rule: PathPrefix(\`/\`)
      service: noop@internal
tcp:
  routers:
    any:
      rule: HostSNI(\`*\`)
      service: nowhere
  services:
    nowhere:
      loadBalancer:
        servers:
          - address: "127.0.0.1:9"
`,
        });
      });
      after(() => proxy?.stop());

      it('lists a router`s default entry points in name order', async () => {
        for (const path of ['http/routers/plain@file', 'tcp/routers/any@file']) {
          const r = await fetch(`http://127.0.0.1:${proxy.ports['traefik']}/api/${path}`);
          assert.equal(r.status, 200, path);
          const body = (await r.json()) as Record<string, unknown>;
          assert.deepEqual(body['entryPoints'], ['alpha', 'zeta'], path);
          assert.deepEqual(body['using'], ['alpha', 'zeta'], path);
        }
      });
    });
  }
});
