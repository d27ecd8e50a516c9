/**
 * Header values made at request time (here by a plugin, as a JWT claim or a basicAuth user name
 * from a usersFile would be) with characters past U+00FF, through both HTTP/2 engines, to an
 * HTTP/1.1 and an h2c backend and back to HTTP/1.1 and h2c clients: every writer sends such a
 * value as its UTF-8 bytes, as Go (Traefik) writes a string. Before, heads were written as latin1,
 * which keeps a character's low byte: U+010D U+010A became CR LF and injected a field into the
 * request an HTTP/1.1 backend read and into the response an HTTP/1.1 client read; the own HTTP/2
 * client refused the request (500), and HTTP/2 responses carried a raw CR LF (the client reset
 * the stream). Configured non-ASCII values (already UTF-8 bytes) go through both engines encoded
 * once.
 */
import assert from 'node:assert/strict';
import { request as h1Request } from 'node:http';
import { connect, createServer, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { engineEnv, H2_ENGINES } from '../helpers/h2-engines.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

const WIDE_REQ = 'a\u010d\u010aX-Injected: 1';
const WIDE_RES = 'b\u010d\u010aX-Res-Injected: 1';

const PLUGIN_FILE = 'plugins-local/src/example.com/wide/index.ts';
const PLUGIN = `
import type { Middleware, Plugin } from 'traffic-management/plugin';
export const plugin: Plugin<Record<string, never>> = {
  schema: { '~standard': { version: 1, vendor: 'wide', validate: () => ({ value: {} }) } },
  create(): Middleware {
    return {
      onRequest(req) { req.headers.set('X-Wide', ${JSON.stringify(WIDE_REQ)}); return undefined; },
      onResponse(_req, res) { res.headers.set('X-Wide-Res', ${JSON.stringify(WIDE_RES)}); },
    };
  },
};
`;

/** A field's value in a latin1 raw header list (node's parsers), read back as UTF-8 text. */
function text(raw: readonly string[], name: string): string | undefined {
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === name) return Buffer.from(raw[i + 1]!, 'latin1').toString('utf8');
  }
  return undefined;
}

function has(raw: readonly string[], name: string): boolean {
  return raw.some((n, i) => i % 2 === 0 && n.toLowerCase() === name);
}

async function getH1(port: number, path: string): Promise<{ status: number; raw: string[] }> {
  return new Promise((resolve, reject) => {
    const r = h1Request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, raw: res.rawHeaders }));
    });
    r.on('error', reject);
    r.end();
  });
}

async function getH2(port: number, path: string): Promise<{ status: number; raw: string[] }> {
  const session = connect(`http://127.0.0.1:${port}`);
  try {
    return await new Promise((resolve, reject) => {
      session.on('error', reject);
      const s = session.request({ ':path': path });
      s.on('error', reject);
      s.on('response', (h, _flags, rawFlat) => {
        const raw = rawFlat as unknown as string[];
        s.resume();
        s.on('end', () => resolve({ status: Number(h[':status']), raw }));
      });
    });
  } finally {
    session.close();
  }
}

for (const engine of H2_ENGINES) {
  describe(`header values made at run time, past U+00FF (http2Engine ${engine})`, () => {
    let h1: Backend;
    let h2: Http2Server;
    const h2Seen: string[][] = [];
    let proxy: ProxyProcess;

    before(async () => {
      h1 = await startBackend((_req, res) => res.end('ok'));
      h2 = createServer();
      h2.on('stream', (s, _h, _f, rawFlat) => {
        s.on('error', () => {});
        h2Seen.push(rawFlat as unknown as string[]);
        s.respond({ ':status': 200 });
        s.end('ok');
      });
      h2.on('sessionError', () => {});
      await new Promise<void>((r) => h2.listen(0, '127.0.0.1', r));
      const h2Port = (h2.address() as AddressInfo).port;
      proxy = await startProxy({
        env: engineEnv(engine),
        files: { [PLUGIN_FILE]: PLUGIN },
        config: `entryPoints:
  web:
    address: "127.0.0.1:0"
experimental:
  localPlugins:
    wide: { moduleName: example.com/wide }
http:
  routers:
    one: { rule: "PathPrefix(\`/h1\`)", service: one, middlewares: [wide, cafe] }
    two: { rule: "PathPrefix(\`/h2\`)", service: two, middlewares: [wide, cafe] }
  middlewares:
    wide: { plugin: { wide: {} } }
    cafe:
      headers:
        customRequestHeaders: { X-Cafe: "caf\\u00e9 \\u010d" }
        customResponseHeaders: { X-Cafe-Res: "caf\\u00e9 \\u010d" }
  services:
    one: { loadBalancer: { servers: [{ url: "${h1.url}" }] } }
    two: { loadBalancer: { servers: [{ url: "h2c://127.0.0.1:${h2Port}" }] } }
`,
      });
    });

    after(async () => {
      await proxy?.stop();
      await h1?.close();
      await new Promise((r) => h2?.close(r));
    });

    const port = () => proxy.ports['web']!;

    it('an HTTP/1.1 backend reads the request fields as UTF-8 bytes, no field injected', async () => {
      const r = await getH1(port(), '/h1');
      assert.equal(r.status, 200);
      const seen = h1.seen.at(-1)!;
      assert.equal(seen.headers['x-injected'], undefined, 'no field injected');
      assert.equal(text(seen.rawHeaders, 'x-wide'), WIDE_REQ);
      assert.equal(text(seen.rawHeaders, 'x-cafe'), 'café č');
    });

    it('an h2c backend reads them as UTF-8 bytes too', async () => {
      const r = await getH1(port(), '/h2');
      assert.equal(r.status, 200);
      const seen = h2Seen.at(-1)!;
      assert.equal(has(seen, 'x-injected'), false, 'no field injected');
      assert.equal(text(seen, 'x-wide'), WIDE_REQ);
      assert.equal(text(seen, 'x-cafe'), 'café č');
    });

    it('an HTTP/1.1 client reads the response fields as UTF-8 bytes, no field injected', async () => {
      for (const path of ['/h1', '/h2']) {
        const r = await getH1(port(), path);
        assert.equal(r.status, 200, path);
        assert.equal(has(r.raw, 'x-res-injected'), false, `${path}: no field injected`);
        assert.equal(text(r.raw, 'x-wide-res'), WIDE_RES, path);
        assert.equal(text(r.raw, 'x-cafe-res'), 'café č', path);
      }
    });

    it('an h2c client reads them as UTF-8 bytes too', async () => {
      for (const path of ['/h1', '/h2']) {
        const r = await getH2(port(), path);
        assert.equal(r.status, 200, path);
        assert.equal(text(r.raw, 'x-wide-res'), WIDE_RES, path);
        assert.equal(text(r.raw, 'x-cafe-res'), 'café č', path);
      }
    });
  });
}
