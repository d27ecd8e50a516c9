/**
 * The path middlewares through the real proxy process, as a backend sees the request: what
 * Traefik's stripprefix, stripprefixregex, addprefix, replacepath and replacepathregex leave in
 * Go's URL, and so send upstream.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { curl } from '../helpers/curl.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

interface Seen {
  readonly url: string;
  readonly headers: Record<string, string | undefined>;
}

describe('path middlewares as the backend sees them', () => {
  let echo: Backend;
  let proxy: ProxyProcess;
  let base: string;

  before(async () => {
    echo = await startBackend((req, res) => {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ url: req.url, headers: req.headers }));
    });
    const router = (name: string, prefix: string, mws: string) =>
      `    ${name}: { rule: "PathPrefix(\`${prefix}\`)", service: echo, middlewares: [${mws}] }\n`;
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
http:
  routers:
${router('strip', '/strip', 'strip')}${router('stripAdd', '/sa', 'strip-sa, add')}${router('forced', '/fs', 'strip-fs, add')}${router('regexAdd', '/re', 'strip-re, add')}${router('stripReplace', '/sr', 'strip-sr, replace')}${router('stripRegexRepl', '/srr', 'strip-srr, replace-regex')}${router('badEscape', '/bad', 'bad-escape')}${router('addSpaced', '/sp/', 'add-spaced')}${router('emptyReplace', '/er', 'replace-empty, empty-chain')}${router('regexNoRepl', '/rn', 'regex-no-replacement')}
  middlewares:
    strip: { stripPrefix: { prefixes: ["/strip"] } }
    strip-sa: { stripPrefix: { prefixes: ["/sa/", "/sa"] } }
    strip-fs: { stripPrefix: { prefixes: ["/fs"], forceSlash: true } }
    strip-re: { stripPrefixRegex: { regex: ["/re/[a-z]+"] } }
    strip-sr: { stripPrefix: { prefixes: ["/sr"] } }
    strip-srr: { stripPrefix: { prefixes: ["/srr"] } }
    add: { addPrefix: { prefix: "/v2" } }
    add-spaced: { addPrefix: { prefix: "/a b" } }
    replace: { replacePath: { path: "/replaced" } }
    # Written with a key: an empty middleware type alone refuses the file in Traefik (paerser).
    replace-empty: { replacePath: { path: "" } }
    empty-chain: { chain: { middlewares: [] } }
    regex-no-replacement: { replacePathRegex: { regex: "^/rn" } }
    replace-regex: { replacePathRegex: { regex: "^/$", replacement: "/root" } }
    bad-escape: { replacePathRegex: { regex: "^/bad/(.*)", replacement: "/x%zz/$1" } }
  services:
    echo: { loadBalancer: { servers: [{ url: "${echo.url}" }] } }
`,
    });
    base = `http://127.0.0.1:${proxy.port}`;
  });
  after(async () => {
    await proxy?.stop();
    await echo?.close();
  });

  async function seen(path: string): Promise<Seen> {
    const r = await curl(['--path-as-is', `${base}${path}`]);
    assert.equal(r.status, 200, r.body.toString());
    return JSON.parse(r.body.toString()) as Seen;
  }

  it('sends / upstream for a path that was the prefix itself', async () => {
    assert.equal((await seen('/strip')).url, '/');
    assert.equal((await seen('/strip?q=1')).url, '/?q=1');
    assert.equal((await seen('/strip')).headers['x-forwarded-prefix'], '/strip');
  });

  // Traefik cuts Go's Path and RawPath alike and sends URL.EscapedPath(): the raw remainder when
  // it still encodes the decoded one, else the decoded one escaped again.
  it('sends the stripped remainder as Go writes it back', async () => {
    assert.equal((await seen('/strip/a%2Fb?q=1')).url, '/a%2Fb?q=1', 'a valid encoding is kept');
    // The remainder `%2Fx/y%2Fz` gets a slash on its raw form only: Go's Path and RawPath no
    // longer agree, and the decoded path is sent.
    assert.equal((await seen('/strip%2Fx/y%2Fz')).url, '/x/y/z');
    assert.equal((await seen('/strip/a"b|c')).url, '/a%22b%7Cc');
    assert.equal((await seen('/re/abc%2Fd')).url, '/v2/d');
  });

  it('sends addPrefix results as Go writes them back', async () => {
    assert.equal((await seen('/sa/x%2Fy')).url, '/v2/x%2Fy', 'a valid encoding is kept');
    // The prefix goes into Path and RawPath as it is: `/a b/...` is no valid encoding, so Go
    // escapes the decoded path, whose %2F is a slash by then.
    assert.equal((await seen('/sp/x%2Fy')).url, '/a%20b/sp/x/y');
  });

  // Traefik's stripPrefix leaves URL.Path "" (ensureLeadingSlash("") is ""): addPrefix then
  // makes "/v2" + "", not "/v2/".
  it('leaves the path empty for the next middleware: addPrefix gives the prefix alone', async () => {
    assert.equal((await seen('/sa')).url, '/v2');
    assert.equal((await seen('/sa?q=1')).url, '/v2?q=1');
    assert.equal((await seen('/sa/')).url, '/v2', '`/sa/` is listed first and is the whole path');
    assert.equal((await seen('/sa/x')).url, '/v2/x');
    assert.equal((await seen('/sax')).url, '/v2/x');
  });

  it('gives / to the next middleware with the deprecated forceSlash: true, as Traefik', async () => {
    assert.equal((await seen('/fs')).url, '/v2/');
    assert.equal((await seen('/fs/x')).url, '/v2/x');
  });

  it('does the same after stripPrefixRegex', async () => {
    const s = await seen('/re/abc');
    assert.equal(s.url, '/v2');
    assert.equal(s.headers['x-forwarded-prefix'], '/re/abc');
    assert.equal((await seen('/re/abc/d')).url, '/v2/d');
  });

  it('shows replacePath and replacePathRegex the empty path', async () => {
    const r = await seen('/sr');
    assert.equal(r.url, '/replaced');
    assert.equal(r.headers['x-replaced-path'], '', 'X-Replaced-Path is the empty path');
    // `^/$` does not match Go's empty URL.Path, so the request goes on as `/`.
    const rr = await seen('/srr');
    assert.equal(rr.url, '/');
    assert.equal(rr.headers['x-replaced-path'], undefined);
  });

  it('loads replacePath with an empty path and a chain without members, as Traefik: the path sent is `/`', async () => {
    const r = await seen('/er/x?q=1');
    assert.equal(r.url, '/?q=1');
    assert.equal(r.headers['x-replaced-path'], '/er/x');
  });

  it('loads replacePathRegex without a replacement, as Traefik: what matched is removed', async () => {
    const r = await seen('/rn/x');
    assert.equal(r.url, '/x');
    assert.equal(r.headers['x-replaced-path'], '/rn/x');
  });

  it('answers a rewritten path with a bad escape as Traefik does: 500 and the Go error text', async () => {
    const r = await curl([`${base}/bad/y`]);
    assert.equal(r.status, 500);
    assert.equal(r.body.toString(), 'invalid URL escape "%zz"\n');
    assert.deepEqual(r.headers['x-content-type-options'], ['nosniff']);
  });
});
