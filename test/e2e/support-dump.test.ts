/**
 * Traefik's `GET /api/support-dump` (pkg/api/handler_support_dump.go): a `support-dump.tar.gz`
 * download holding version.json, static-config.json (anonymized) and runtime-config.json (the
 * runtime objects by name), through the proxy's own API router.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

/** The regular files of a ustar archive, by name. */
function untar(tar: Buffer): Map<string, string> {
  const files = new Map<string, string>();
  for (let at = 0; at + 512 <= tar.length; ) {
    const h = tar.subarray(at, at + 512);
    if (h.every((b) => b === 0)) break;
    const name = h.subarray(0, 100).toString('ascii').replace(/\0.*$/s, '');
    const size = Number.parseInt(h.subarray(124, 136).toString('ascii').replace(/\0.*$/s, ''), 8);
    // The checksum: the header's bytes, its own field counted as spaces.
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
    assert.equal(Number.parseInt(h.subarray(148, 156).toString('ascii'), 8), sum, `checksum of ${name}`);
    files.set(name, tar.subarray(at + 512, at + 512 + size).toString('utf8'));
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

describe('GET /api/support-dump', () => {
  let proxy: ProxyProcess;
  before(async () => {
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  traefik:
    address: "127.0.0.1:0"
log: { level: INFO }
api:
  auth:
    bearerTokens: [s3cret-token-0123456789]
http:
  routers:
    app:
      rule: "Host(\`app.test\`)"
      service: app
  services:
    app:
      loadBalancer:
        servers: [{ url: "http://127.0.0.1:9" }]
`,
    });
  });
  after(() => proxy?.stop());

  it('answers a tar.gz of version.json, static-config.json and runtime-config.json, secrets masked', async () => {
    const r = await fetch(`http://127.0.0.1:${proxy.ports['traefik']}/api/support-dump`, {
      headers: { authorization: 'Bearer s3cret-token-0123456789' },
    });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/gzip');
    assert.equal(r.headers.get('content-disposition'), 'attachment; filename=support-dump.tar.gz');
    const files = untar(gunzipSync(Buffer.from(await r.arrayBuffer())));
    assert.deepEqual([...files.keys()], ['version.json', 'static-config.json', 'runtime-config.json']);

    const version = JSON.parse(files.get('version.json')!) as Record<string, unknown>;
    assert.equal(typeof version['version'], 'string');
    assert.equal(version['codename'], '');
    assert.ok(!Number.isNaN(Date.parse(String(version['startDate']))));

    const staticText = files.get('static-config.json')!;
    assert.ok(!staticText.includes('s3cret-token-0123456789'), staticText);
    const stat = JSON.parse(staticText) as { entryPoints: Record<string, { address: string }> };
    assert.equal(stat.entryPoints['web']?.address, '127.0.0.1:0');

    const runtime = JSON.parse(files.get('runtime-config.json')!) as {
      routers: Record<string, { service: string }>;
      services: Record<string, unknown>;
    };
    assert.equal(runtime.routers['app@file']?.service, 'app@file');
    assert.ok(runtime.services['app@file']);
  });
});
