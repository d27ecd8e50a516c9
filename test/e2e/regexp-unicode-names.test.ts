/**
 * Unicode class names in the regexps of rules and middlewares, as Go 1.25+'s regexp/syntax reads
 * them (Traefik's releases are built with it: `.go-version` 1.25): a name is looked up loosely
 * (case, `_`, `-` and spaces do not count) among the categories, their long names (`Letter`,
 * `Decimal_Number`) and the one-word scripts; a script of several words (`Old_Italic`) is Go's
 * "invalid character class range" error, the router disabled.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

describe('Unicode class names in regexps, as Go 1.25 reads them', () => {
  let proxy: ProxyProcess;
  let backend: Backend;
  before(async () => {
    backend = await startBackend();
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  traefik:
    address: "127.0.0.1:0"
api: {}
http:
  routers:
    letter:
      rule: "PathRegexp(\`^/l/\\\\p{Letter}+$\`)"
      service: s
    loose:
      rule: "PathRegexp(\`^/g/[\\\\p{greek}\\\\pl]+$\`)"
      service: s
    digits:
      rule: "PathPrefix(\`/n/\`)"
      service: s
      middlewares: [digits]
    italic:
      rule: "PathRegexp(\`^/i/\\\\p{Old_Italic}\`)"
      service: s
    unknown:
      rule: "PathRegexp(\`^/u/\\\\p{Grek}\`)"
      service: s
  middlewares:
    digits:
      replacePathRegex: { regex: "^/n/(\\\\p{decimal-number}+)$", replacement: "/num/$1" }
  services:
    s:
      loadBalancer:
        servers: [{ url: "${backend.url}" }]
`,
    });
  });
  after(async () => {
    await proxy?.stop();
    await backend?.close();
  });

  const web = (path: string) => fetch(`http://127.0.0.1:${proxy.ports['web']}${path}`);
  const api = async (path: string) =>
    (await (await fetch(`http://127.0.0.1:${proxy.ports['traefik']}${path}`)).json()) as Record<
      string,
      unknown
    >;

  it('reads a category by its long name (\\p{Letter}), a script in any case and \\pl', async () => {
    for (const [path, status] of [
      ['/l/abc', 200],
      ['/l/a1', 404],
      ['/g/%CE%B1%CE%B2abc', 200],
      ['/g/a-b', 404],
    ] as const) {
      const r = await web(path);
      assert.equal(r.status, status, path);
      await r.arrayBuffer();
    }
  });

  it('reads a loose name in a middleware regexp (replacePathRegex)', async () => {
    const r = await web('/n/42');
    assert.equal(r.status, 200);
    assert.equal(await r.text(), 'GET /num/42');
  });

  it("refuses a script of several words and a script's four-letter code, with Go's error", async () => {
    for (const [router, cls] of [
      ['italic', '\\p{Old_Italic}'],
      ['unknown', '\\p{Grek}'],
    ] as const) {
      const r = await api(`/api/http/routers/${router}@file`);
      assert.equal(r['status'], 'disabled', JSON.stringify(r));
      const error = (r['error'] as string[]).join('\n');
      assert.ok(error.includes(`error parsing regexp: invalid character class range: \`${cls}\``), error);
    }
    const r = await web('/i/x');
    assert.equal(r.status, 404);
    await r.arrayBuffer();
  });
});
