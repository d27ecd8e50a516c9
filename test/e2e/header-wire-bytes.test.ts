/**
 * A header value from the configuration goes on the wire as its UTF-8 bytes (as Traefik writes
 * Go strings): a character past U+00FF never becomes another byte. Before, U+010D U+010A passed
 * the CR/LF/NUL check and were written as CR LF (latin1 keeps the low byte): a field injected
 * into the request an HTTP/1.1 backend received.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { curl } from '../helpers/curl.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

describe('header values from the configuration on the wire', () => {
  let backend: Backend;
  let proxy: ProxyProcess;

  before(async () => {
    backend = await startBackend((_req, res) => res.end('ok'));
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
http:
  routers:
    r: { rule: "PathPrefix(\`/\`)", service: s, middlewares: [m] }
  middlewares:
    m:
      headers:
        customRequestHeaders: { X-A: "a\\u010d\\u010aX-Injected: 1", X-B: "caf\\u00e9" }
  services:
    s: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`,
    });
  });

  after(async () => {
    await proxy?.stop();
    await backend?.close();
  });

  it('sends a character past U+00FF as UTF-8 bytes, never as an injected CR LF', async () => {
    const r = await curl([`http://127.0.0.1:${proxy.ports['web']!}/`]);
    assert.equal(r.status, 200);
    const seen = backend.seen.at(-1)!;
    assert.equal(seen.headers['x-injected'], undefined, 'no field injected');
    const raw = seen.rawHeaders;
    const a = raw[raw.indexOf('X-A') + 1]!;
    // node's parser hands field bytes over as latin1: back to the UTF-8 the config said.
    assert.equal(Buffer.from(a, 'latin1').toString('utf8'), 'a\u010d\u010aX-Injected: 1');
    assert.equal(Buffer.from(raw[raw.indexOf('X-B') + 1]!, 'latin1').toString('utf8'), 'café');
  });
});
