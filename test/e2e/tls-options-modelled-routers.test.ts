/**
 * A router on several entry points, once an entry point model splits it into `<ep>-<router>`
 * copies (static `core`, or an entry point's `http.tls`: config/dynamic/entry-point-model.ts),
 * whose TLS options are refused (options that do not exist; a conflict under
 * `core.strictTLSOptions`, Traefik v3.8): that router is left out with its error, located at it,
 * and the rest of the configuration is served; under `core.strictTLSOptions` only on the entry
 * point of the conflict (Traefik disables that copy alone). The whole configuration was refused, naming the
 * copy (`http.routers.ep1-both@file…`), so no router served at all.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { TestPki } from '../helpers/tls-certs.ts';
import { httpsGet } from './traefik-integration/fixture-https.ts';

describe('TLS options refused on a router split over several entry points', () => {
  let pki: TestPki;
  let backend: Backend;
  const open: ProxyProcess[] = [];

  before(async () => {
    pki = new TestPki('modelled routers CA');
    backend = await startBackend((_req, res) => res.end('served'));
  });

  after(async () => {
    for (const p of open) await p.stop();
    await backend?.close();
    pki?.remove();
  });

  async function proxy(core: string, routers: string, options: string): Promise<ProxyProcess> {
    const cert = pki.issue('modelled', ['a.test', 'b.test']);
    const p = await startProxy({
      config: `${core}entryPoints:
  ep1:
    address: "127.0.0.1:0"
    http: { tls: {} }
  ep2:
    address: "127.0.0.1:0"
    http: { tls: {} }
  traefik:
    address: "127.0.0.1:0"
api: {}
providers:
  file: { filename: dyn.yaml }
`,
      files: {
        'dyn.yaml': `http:
  routers:
${routers}    other: { rule: "Host(\`b.test\`)", service: s, entryPoints: [ep1] }
  services:
    s: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
tls:
  certificates:
    - { certFile: c.pem, keyFile: c.key }
  options:
${options}`,
        'c.pem': cert.certPem,
        'c.key': cert.keyPem,
      },
    });
    open.push(p);
    await p.waitForLog(
      (l) => l.msg === 'configuration applied' || l.msg === 'configuration rejected',
      20_000,
    );
    return p;
  }

  it('core.strictTLSOptions: a conflict on one entry point disables that router there, it and the others serve elsewhere', async () => {
    const p = await proxy(
      'core: { strictTLSOptions: true }\n',
      `    both: { rule: "Host(\`a.test\`)", service: s, entryPoints: [ep1, ep2], tls: { options: o12 } }
    one: { rule: "Host(\`a.test\`) && Path(\`/x\`)", service: s, entryPoints: [ep1], tls: { options: o13 } }
`,
      `    o12: { maxVersion: VersionTLS12 }
    o13: { minVersion: VersionTLS13 }
`,
    );
    assert.ok(!p.logs.some((l) => l.msg === 'configuration rejected'), 'the configuration was refused whole');
    const other = await httpsGet(p.ports['ep1']!, { servername: 'b.test' });
    assert.equal(other.status, 200);
    assert.equal(other.body, 'served');
    const conflict = await httpsGet(p.ports['ep1']!, { servername: 'a.test' });
    assert.equal(conflict.status, 404, 'a router of the conflict served');
    // Only the copy on ep1 (`ep1-both`) is in the conflict: `both` serves ep2, as Traefik's
    // `ep2-both` does.
    const elsewhere = await httpsGet(p.ports['ep2']!, { servername: 'a.test' });
    assert.equal(elsewhere.status, 200);
    assert.equal(elsewhere.body, 'served');
    const errors = p.logs.filter((l) => l.msg === 'configuration error').map((l) => String(l['issue']));
    // The copy in the conflict, located at the router it was made from, named as Traefik names it.
    assert.ok(
      errors.some((e) =>
        /dyn\.yaml:3:\d+: http\.routers\.ep1-both\.tls: routers on a\.test \(entry point ep1\)/.test(e),
      ),
      JSON.stringify(errors),
    );
    // The API lists Traefik's copies: the one in the conflict disabled with its error, the other
    // enabled under its `<ep>-<router>` name; no `both` (applyModel, pkg/server/aggregator.go).
    const r = await fetch(`http://127.0.0.1:${p.ports['traefik']}/api/http/routers?search=both`);
    const list = (await r.json()) as {
      name: string;
      status: string;
      entryPoints: string[];
      error?: string[];
    }[];
    assert.deepEqual(
      list.map((x) => [x.name, x.status, x.entryPoints, (x.error ?? []).length > 0]),
      [
        ['ep1-both@file', 'disabled', ['ep1'], true],
        ['ep2-both@file', 'enabled', ['ep2'], false],
      ],
    );
  });

  it('core.strictTLSOptions: a conflict on every entry point disables each copy, listed as Traefik lists them', async () => {
    const p = await proxy(
      'core: { strictTLSOptions: true }\n',
      `    both: { rule: "Host(\`a.test\`)", service: s, entryPoints: [ep1, ep2], tls: { options: o12 } }
    one: { rule: "Host(\`a.test\`) && Path(\`/x\`)", service: s, entryPoints: [ep1, ep2], tls: { options: o13 } }
`,
      `    o12: { maxVersion: VersionTLS12 }
    o13: { minVersion: VersionTLS13 }
`,
    );
    for (const ep of ['ep1', 'ep2'])
      assert.equal((await httpsGet(p.ports[ep]!, { servername: 'a.test' })).status, 404, ep);
    assert.equal((await httpsGet(p.ports['ep1']!, { servername: 'b.test' })).status, 200);
    const r = await fetch(`http://127.0.0.1:${p.ports['traefik']}/api/http/routers?status=disabled`);
    const list = (await r.json()) as { name: string }[];
    assert.deepEqual(
      list.map((x) => x.name),
      ['ep1-both@file', 'ep1-one@file', 'ep2-both@file', 'ep2-one@file'],
    );
  });

  it('TLS options that do not exist leave that router out, the others serve', async () => {
    const p = await proxy(
      '',
      `    both: { rule: "Host(\`a.test\`)", service: s, entryPoints: [ep1, ep2], tls: { options: nope } }
`,
      `    o12: { maxVersion: VersionTLS12 }
`,
    );
    assert.ok(!p.logs.some((l) => l.msg === 'configuration rejected'), 'the configuration was refused whole');
    const other = await httpsGet(p.ports['ep2']!, { servername: 'b.test' }).catch((e: Error) => e);
    // `other` is on ep1 only: ep2 has no router for b.test.
    assert.ok(!(other instanceof Error) && other.status === 404, String(other));
    assert.equal((await httpsGet(p.ports['ep1']!, { servername: 'b.test' })).status, 200);
    // The broken router's hosts refuse the handshake (Traefik's closing route), on both entry points.
    for (const ep of ['ep1', 'ep2']) {
      const a = await httpsGet(p.ports[ep]!, { servername: 'a.test' }).catch((e: Error) => e);
      assert.ok(a instanceof Error, `a.test on ${ep} was answered`);
    }
    const errors = p.logs.filter((l) => l.msg === 'configuration error').map((l) => String(l['issue']));
    assert.deepEqual(
      errors.filter((e) => e.includes('unknown TLS options')).map((e) => e.replace(/^.*?: http/, 'http')),
      ['http.routers.both.tls.options: unknown TLS options `nope`'],
    );
  });
});
