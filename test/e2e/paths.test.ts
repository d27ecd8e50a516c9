import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { PATH_VARIANTS } from '../../src/http1/corpus/paths.ts';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type Nginx, startNginx } from '../helpers/nginx.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { rawRequest } from '../helpers/raw-client.ts';

/*
 * Request paths that try to reach an admin route sideways (issue 16): `/p/admin` has a router of
 * its own, everything else goes to a catch-all. Each variant must be refused (400) or normalised
 * onto the admin route, on HTTP/1.1 and on HTTP/2, and the same list runs through a real nginx set
 * up the same way: ours must refuse or normalise every variant nginx does (it does more).
 */

type Outcome = 'refused' | 'admin' | 'other';

interface Seen {
  readonly outcome: Outcome;
  readonly status: number;
  /** What the backend that answered saw as its request target. */
  readonly target: string;
}

function classify(status: number, body: string): Seen {
  if (status === 400) return { outcome: 'refused', status, target: '' };
  assert.equal(status, 200, `unexpected status ${status}: ${body}`);
  const [who, target = ''] = body.split(' ');
  assert.ok(who === 'ADMIN' || who === 'OTHER', `unexpected body ${body}`);
  return { outcome: who === 'ADMIN' ? 'admin' : 'other', status, target };
}

async function viaHttp1(port: number, path: string): Promise<Seen> {
  const r = await rawRequest(port, `GET ${path} HTTP/1.1\r\nHost: paths.test\r\nConnection: close\r\n\r\n`, {
    timeoutMs: 5000,
  });
  const res = r.responses[0];
  assert.ok(res !== undefined, `no response for ${path}: ${r.data.toString('latin1')}`);
  return classify(res.status, res.body.toString());
}

function viaHttp2(session: http2.ClientHttp2Session, path: string): Promise<Seen> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':path': path, ':authority': 'paths.test' }, { endStream: true });
    let status = 0;
    let body = '';
    req.on('response', (h) => {
      status = Number(h[':status']);
    });
    req.setEncoding('utf8');
    req.on('data', (d: string) => {
      body += d;
    });
    req.on('end', () => {
      try {
        resolve(classify(status, body));
      } catch (e) {
        reject(e);
      }
    });
    req.on('error', reject);
  });
}

/**
 * No `.` or `..` segment, with path parameters or without (a backend that strips `;x`, as Tomcat
 * does, reads `..;x` as `..`), no empty segment: what the admin backend may see from us.
 */
function canonical(target: string): boolean {
  return target
    .split('?')[0]!
    .split('/')
    .slice(1)
    .map((s) => s.split(';')[0]!)
    .every((s, i, all) => s !== '.' && s !== '..' && (s !== '' || i === all.length - 1));
}

describe('request paths that try to reach a route sideways', () => {
  let admin: Backend;
  let other: Backend;
  let proxy: ProxyProcess;
  let nginx: Nginx;

  before(async () => {
    admin = await startBackend((req, res) => res.end(`ADMIN ${req.url}`));
    other = await startBackend((req, res) => res.end(`OTHER ${req.url}`));
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
http:
  routers:
    admin: { rule: "PathPrefix(\`/p/admin\`)", service: admin }
    other: { rule: "PathPrefix(\`/\`)", service: other }
  services:
    admin: { loadBalancer: { servers: [{ url: "${admin.url}" }] } }
    other: { loadBalancer: { servers: [{ url: "${other.url}" }] } }
`,
    });
    nginx = await startNginx(`
    location /p/admin { proxy_pass ${admin.url}; }
    location / { proxy_pass ${other.url}; }`);
  });
  after(async () => {
    await proxy?.stop();
    await nginx?.close();
    await Promise.all([admin?.close(), other?.close()]);
  });

  /**
   * Ours must refuse a variant or forward it canonical, on the route its canonical path selects:
   * never a raw `..` to the catch-all, never `/p/admin…` served by the catch-all.
   */
  function assertSafe(p: string, seen: Seen): void {
    if (seen.outcome === 'refused') return;
    assert.ok(canonical(seen.target), `${p} was forwarded as ${seen.target}`);
    const adminPath = seen.target.startsWith('/p/admin');
    assert.equal(
      seen.outcome === 'admin',
      adminPath,
      `${p} was forwarded as ${seen.target} to ${seen.outcome}`,
    );
  }

  it('refuses or forwards canonical, on the right route, every variant over HTTP/1.1', async () => {
    for (const p of PATH_VARIANTS) assertSafe(p, await viaHttp1(proxy.port, p));
  });

  it('refuses or forwards canonical, on the right route, every variant over HTTP/2', async (t) => {
    const session = http2.connect(`http://127.0.0.1:${proxy.port}`);
    t.after(() => session.close());
    for (const p of PATH_VARIANTS) assertSafe(p, await viaHttp2(session, p));
  });

  it('refuses or normalises every variant that nginx refuses or normalises', async (t) => {
    const rows: string[] = [];
    let nginxCaught = 0;
    for (const p of PATH_VARIANTS) {
      // nginx forwards the raw target whatever it routed on: which location answered (or a 400
      // of its own) is what tells how it read the path.
      const theirs = await viaHttp1(nginx.port, p);
      const ours = await viaHttp1(proxy.port, p);
      rows.push(
        `${p.padEnd(30)} nginx ${theirs.outcome.padEnd(8)} ours ${ours.outcome.padEnd(8)} ${ours.target}`,
      );
      if (theirs.outcome === 'other') continue;
      nginxCaught++;
      assertSafe(p, ours);
      if (theirs.outcome === 'admin') {
        assert.ok(ours.outcome !== 'other', `nginx routed ${p} to the admin location, ours to the catch-all`);
      }
    }
    t.diagnostic(`\n${rows.join('\n')}`);
    // nginx itself is doing its part: most variants never reach its catch-all location.
    assert.ok(nginxCaught >= PATH_VARIANTS.length / 2, `nginx caught only ${nginxCaught}`);
  });

  it('leaves an ordinary path and an encoded slash between ordinary segments alone', async () => {
    assert.deepEqual(await viaHttp1(proxy.port, '/p/public/page'), {
      outcome: 'other',
      status: 200,
      target: '/p/public/page',
    });
    assert.deepEqual(await viaHttp1(proxy.port, '/repo/group%2fproject?x=%2e%2e'), {
      outcome: 'other',
      status: 200,
      target: '/repo/group%2Fproject?x=%2e%2e',
    });
  });

  it('forwards the characters a path may not carry raw percent-encoded, as Traefik (Go) does', async () => {
    // Go's URL.EscapedPath(), which Traefik's proxy writes the path with: `"` `<` `>` `\` `^`
    // backquote `{` `|` `}` go upstream encoded; the route is chosen on the same path.
    const want = { outcome: 'admin', status: 200, target: '/p/admin/%7Bid%7D%7Cx%5E%22%3C%3E%60%5C?q={a}' };
    assert.deepEqual(await viaHttp1(proxy.port, '/p/admin/{id}|x^"<>`\\?q={a}'), want);
    const session = http2.connect(`http://127.0.0.1:${proxy.port}`);
    try {
      assert.deepEqual(await viaHttp2(session, '/p/admin/{id}|x^"<>`\\?q={a}'), want);
    } finally {
      session.close();
    }
  });
});
