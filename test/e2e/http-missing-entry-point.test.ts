/**
 * An HTTP router that names an entry point which does not exist still serves the ones that do,
 * as Traefik's GetRoutersByEntryPoints (pkg/config/runtime/runtime_http.go) records a
 * non-critical error per missing entry point and disables the router only when none is left.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startBackend } from '../helpers/backends.ts';
import { httpRequest } from '../helpers/http-request.ts';
import { startProxy } from '../helpers/proxy-process.ts';

describe('HTTP routers naming an entry point that does not exist', () => {
  it('serves the entry points that exist and disables a router left with none', async (t) => {
    const be = await startBackend((_req, res) => res.end('served'));
    t.after(() => be.close());
    const proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: DEBUG }
http:
  routers:
    kept: { rule: "Path(\`/kept\`)", service: s, entryPoints: [web, typo] }
    gone: { rule: "Path(\`/gone\`)", service: s, entryPoints: [typo] }
  services:
    s: { loadBalancer: { servers: [{ url: "${be.url}" }] } }
`,
    });
    t.after(() => proxy.stop());
    const kept = await httpRequest(proxy.port, { path: '/kept' });
    assert.equal(kept.status, 200);
    assert.equal(kept.text, 'served');
    assert.equal((await httpRequest(proxy.port, { path: '/gone' })).status, 404);
  });
});
