/**
 * redirectScheme and redirectRegex through the real proxy process: the Location a client gets.
 * Traefik builds it with Go's url.Parse and writes it back with URL.String(), so the path is
 * EscapedPath(): a valid encoding is kept as sent, characters a path may not carry raw are
 * percent-encoded.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { header, rawRequest } from '../helpers/raw-client.ts';

describe('redirect middlewares: the Location', () => {
  let app: Backend;
  let proxy: ProxyProcess;

  before(async () => {
    app = await startBackend((_req, res) => res.end('app'));
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
http:
  routers:
    scheme: { rule: "Host(\`scheme.test\`)", service: app, middlewares: [to-https] }
    regex: { rule: "Host(\`regex.test\`)", service: app, middlewares: [moved] }
    bad: { rule: "Host(\`bad.test\`)", service: app, middlewares: [bad-escape] }
    bad-host: { rule: "Host(\`badhost.test\`)", service: app, middlewares: [bad-host] }
    echo-host: { rule: "Host(\`echo.test\`)", service: app, middlewares: [echo-host] }
    exact-case: { rule: "Host(\`case.test\`)", service: app, middlewares: [exact-case] }
  middlewares:
    to-https: { redirectScheme: { scheme: https } }
    moved: { redirectRegex: { regex: "^http://regex\\\\.test/(.*)", replacement: "HTTPS://other.test/new/$1" } }
    bad-escape: { redirectRegex: { regex: "^http://bad\\\\.test/(.*)", replacement: "https://other.test/%zz/$1" } }
    bad-host: { redirectRegex: { regex: "^http://badhost\\\\.test/(.*)", replacement: "http://192.168.0.%31/$1" } }
    echo-host: { redirectRegex: { regex: "^http://([^/]+)/(.*)", replacement: "https://$1/moved/$2" } }
    exact-case: { redirectRegex: { regex: "^http://case\\\\.test/(.*)", replacement: "https://case.test/new/$1" } }
  services:
    app: { loadBalancer: { servers: [{ url: "${app.url}" }] } }
`,
    });
  });
  after(async () => {
    await proxy?.stop();
    await app?.close();
  });

  async function get(
    host: string,
    target: string,
  ): Promise<{ status: number; location: string | undefined; body: string }> {
    const r = await rawRequest(
      proxy.port,
      `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      { timeoutMs: 5000 },
    );
    const res = r.responses[0];
    assert.ok(res !== undefined, r.data.toString('latin1'));
    return { status: res.status, location: header(res, 'location'), body: res.body.toString() };
  }

  it('redirectScheme: escapes what a path may not carry raw, keeps valid escapes and the query', async () => {
    const r = await get('scheme.test', '/a|b^c"d?q="x"');
    assert.equal(r.status, 302);
    assert.equal(r.location, 'https://scheme.test/a%7Cb%5Ec%22d?q="x"');
    assert.equal((await get('scheme.test', '/a%2Fb')).location, 'https://scheme.test/a%2Fb');
    // Go's EscapedPath escapes the decoded path again once the raw one is not a valid encoding,
    // and the %2F is then a plain slash (https://scheme.test/a/b%7Cc). Ours keeps the encoded
    // slash, as the entry point keeps it in the path it routes on and forwards
    // (http1/request-path.ts, canonicalPath step 5).
    assert.equal((await get('scheme.test', '/a%2Fb|c')).location, 'https://scheme.test/a%2Fb%7Cc');
  });

  it('redirectRegex: the same for the replaced URL, and a lower-case scheme', async () => {
    const r = await get('regex.test', '/x{y}|z?k=v');
    assert.equal(r.status, 302);
    assert.equal(r.location, 'https://other.test/new/x%7By%7D%7Cz?k=v');
  });

  it('redirectRegex: a replacement with a bad escape is a 502, as url.Parse refuses it', async () => {
    const r = await get('bad.test', '/x');
    // oxy's DefaultHandler: *url.Error is a net.Error that did not time out, so 502 and its
    // status text (Traefik's redirect_regex_test.go "invalid rewritten URL").
    assert.equal(r.status, 502);
    assert.equal(r.body, 'Bad Gateway');
    // Traefik's own test case: an escape of an ASCII byte in the host is refused too.
    const host = await get('badhost.test', '/x');
    assert.equal(host.status, 502);
    assert.equal(host.location, undefined);
  });

  // Traefik's redirects work on Go's req.Host, the Host field as written (redirect_scheme.go
  // clientRequestURL, redirect_regex.go rawURL): its case and a trailing dot stay, where routing
  // compares the lowercased name without the dot.
  it('redirectScheme: the Location keeps the Host as the client wrote it', async () => {
    assert.equal((await get('Scheme.TEST', '/p?q')).location, 'https://Scheme.TEST/p?q');
    assert.equal((await get('scheme.test.:8080', '/p')).location, 'https://scheme.test./p');
  });

  it('redirectRegex: matches and captures the Host as the client wrote it', async () => {
    const r = await get('Echo.Test:8080', '/a');
    assert.equal(r.status, 302);
    assert.equal(r.location, 'https://Echo.Test:8080/moved/a');
    // A case-sensitive regex does not match another spelling of the name: the request goes on.
    const on = await get('CASE.test', '/a');
    assert.equal(on.status, 200);
    assert.equal(on.body, 'app');
    assert.equal((await get('case.test', '/a')).location, 'https://case.test/new/a');
  });
});
