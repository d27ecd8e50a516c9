/**
 * `/api/explain` (ours) without `entryPoint=` when there is no default entry point (only a UDP
 * one is `asDefault`, so Traefik's getDefaultsEntrypoints gives none): the only HTTP entry point
 * is taken; with several, a 400 names them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startProxy } from '../helpers/proxy-process.ts';

const config = (web: boolean) => `entryPoints:
${web ? '  web:\n    address: "127.0.0.1:0"\n' : ''}  dns:
    address: "127.0.0.1:0/udp"
    asDefault: true
  traefik:
    address: "127.0.0.1:0"
api: {}
http:
  routers:
    named:
      rule: PathPrefix(\`/named\`)
      service: noop@internal
      entryPoints: [traefik${web ? ', web' : ''}]
`;

const explain = async (port: number, query: string) => {
  const r = await fetch(`http://127.0.0.1:${port}/api/explain?${query}`);
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
};

describe('/api/explain without entryPoint= and no default entry point (e2e)', () => {
  it('takes the only HTTP entry point', async () => {
    const proxy = await startProxy({ config: config(false) });
    try {
      const r = await explain(proxy.ports['traefik']!, 'url=http://a.test/named');
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body['entryPoint'], 'traefik');
      assert.equal(r.body['matched'], 'named@file');
    } finally {
      await proxy.stop();
    }
  });

  it('answers 400 naming the HTTP entry points when there are several', async () => {
    const proxy = await startProxy({ config: config(true) });
    try {
      const port = proxy.ports['traefik']!;
      const r = await explain(port, 'url=http://a.test/named');
      assert.equal(r.status, 400);
      assert.match(
        String(r.body['error'] ?? r.body['message']),
        /^there is no default entry point: name one with entryPoint= \(`traefik`, `web`\)$/,
        JSON.stringify(r.body),
      );
      const named = await explain(port, 'entryPoint=web&url=http://a.test/named');
      assert.equal(named.status, 200, JSON.stringify(named.body));
      assert.equal(named.body['entryPoint'], 'web');
    } finally {
      await proxy.stop();
    }
  });
});
