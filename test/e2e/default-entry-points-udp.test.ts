/**
 * The entry points of a router that names none, with a UDP entry point declared: Traefik's
 * defaults are the TCP entry points but `traefik` (cmd/traefik/traefik.go
 * getDefaultsEntrypoints: `protocol != "udp"`), so an HTTP or TCP router without `entryPoints`
 * is not on the UDP one. Seen porting k8s_test.go (k8s_gateway.toml declares `fooudp`).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

describe('default entry points leave the UDP ones out (e2e)', () => {
  let proxy: ProxyProcess;

  before(async () => {
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
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
      service: nowhere
  services:
    nowhere:
      loadBalancer:
        servers:
          - address: "127.0.0.1:9"
`,
    });
  });

  after(async () => {
    await proxy?.stop();
  });

  const api = async (path: string): Promise<Record<string, unknown>> => {
    const r = await fetch(`http://127.0.0.1:${proxy.ports['traefik']}/api/${path}`);
    assert.equal(r.status, 200, path);
    return (await r.json()) as Record<string, unknown>;
  };

  it('an HTTP router without entryPoints is on the TCP entry points only', async () => {
    const r = await api('http/routers/plain@file');
    assert.deepEqual(r['entryPoints'], ['web']);
    assert.deepEqual(r['using'], ['web']);
  });

  it('a TCP router without entryPoints is on the TCP entry points only', async () => {
    const r = await api('tcp/routers/any@file');
    assert.deepEqual(r['entryPoints'], ['web']);
    assert.deepEqual(r['using'], ['web']);
  });
});
