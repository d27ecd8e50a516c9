/**
 * The Kubernetes Ingress NGINX provider (Traefik's kubernetesIngressNGINX) in the real proxy
 * against a Kubernetes API server on loopback (test/helpers/fake-kube.ts), with real backends:
 * Ingresses of ingress-nginx's class are routed (whole-segment prefixes, regex paths), others
 * left alone; a TLS section serves its certificate on the HTTPS entry point and redirects HTTP;
 * the `nginx.ingress.kubernetes.io/*` annotations: rewrite-target, basic auth from a Secret,
 * sticky cookie, canary by header and by weight, redirects, app-root, allowlist, CORS,
 * upstream-vhost, custom-headers from a ConfigMap, configuration-snippet (Traefik's Snippet
 * middleware); publishStatusAddress in the Ingress status.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect, createServer as createTlsServer } from 'node:tls';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type FakeKube, startFakeKube } from '../helpers/fake-kube.ts';
import { ingressFor, loopbackServices, secretFor } from '../helpers/kube-objects.ts';
import { providersHead } from '../helpers/provider-config.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { selfSignedCertificate, TestPki } from '../helpers/tls-certs.ts';
import { untilApplied } from '../helpers/wait.ts';

const A = 'nginx.ingress.kubernetes.io/';

interface Answer {
  readonly status: number;
  readonly text: string;
  readonly headers: Record<string, string | string[] | undefined>;
}

describe('Kubernetes Ingress NGINX provider (e2e, API server on loopback)', () => {
  let a: Backend;
  let b: Backend;
  let c: Backend;
  let auth: Backend;
  let h: Backend;
  let lastAuth: { method: string; url: string; headers: Record<string, unknown> } | undefined;
  let kube: FakeKube;
  let dir: string;
  let proxy: ProxyProcess;
  let web = 0;
  let websecure = 0;
  const cert = selfSignedCertificate(['secure.example']);

  before(async () => {
    [a, b, c, auth, h, kube] = await Promise.all([
      startBackend((req, res) => res.end(`a ${req.url} ${req.headers.host}`)),
      startBackend((req, res) => res.end(`b ${req.url} ${req.headers.host}`)),
      startBackend((req, res) => res.end(`c ${req.url} user=${req.headers['x-user'] ?? '-'}`)),
      // The auth server: a token lets in (naming the user), anything else is 401.
      startBackend((req, res) => {
        lastAuth = { method: req.method ?? '', url: req.url ?? '', headers: req.headers };
        if (req.headers.authorization === 'Bearer good') {
          res.setHeader('X-User', 'ann');
          res.end();
        } else {
          res.statusCode = 401;
          res.end();
        }
      }),
      // Answers with the request it got: its target and its fields.
      startBackend((req, res) => res.end(JSON.stringify({ url: req.url, headers: req.headers }))),
      startFakeKube(),
    ]);
    // The token is a file's path (Traefik's FileOrContent), and the API server insists on it.
    dir = mkdtempSync(join(tmpdir(), 'kube-nginx-'));
    writeFileSync(join(dir, 'token'), 'file-token\n');
    kube.requireToken = 'file-token';
    for (const o of loopbackServices('shop', { a: a.port, b: b.port, c: c.port, h: h.port, au: auth.port }))
      kube.apply(o);
    kube.apply({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'IngressClass',
      metadata: { name: 'nginx' },
      spec: { controller: 'k8s.io/ingress-nginx' },
    });
    proxy = await startProxy({
      config: `${providersHead(
        '50ms',
        `entryPoints:
  web:
    address: "127.0.0.1:0"
  websecure:
    address: "127.0.0.1:0"
    http: { tls: {} }
  traefik:
    address: "127.0.0.1:0"
`,
      )}  kubernetesIngressNGINX:
    endpoint: "${kube.url}"
    token: "${join(dir, 'token')}"
    httpsEntryPoint: websecure
    publishStatusAddress: [192.0.2.7, lb.example]
    globalAllowedResponseHeaders: [X-Frame-Options]
    allowSnippetAnnotations: true
`,
    });
    web = proxy.ports['web'] ?? 0;
    websecure = proxy.ports['websecure'] ?? 0;
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all([a?.close(), b?.close(), c?.close(), auth?.close(), h?.close(), kube?.close()]);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  // node:http, not fetch: fetch does not let a test set Host.
  const get = (
    path: string,
    host: string,
    headers: Record<string, string> = {},
    method = 'GET',
  ): Promise<Answer> =>
    new Promise((resolve, reject) => {
      request(
        { port: web, host: '127.0.0.1', path, method, headers: { host, ...headers }, agent: false },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            text += c;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text, headers: res.headers }));
        },
      )
        .on('error', reject)
        .end();
    });
  const until = (from: number, check: () => Promise<boolean>): Promise<void> =>
    untilApplied(proxy, from, check);
  const nginx = (
    name: string,
    host: string,
    paths: { path: string; pathType: string; service: string }[],
    annotations: Record<string, string> = {},
    extra: { tls?: unknown[]; className?: string } = {},
  ) =>
    ingressFor('shop', name, host, paths, {
      className: extra.className ?? 'nginx',
      annotations: Object.fromEntries(Object.entries(annotations).map(([k, v]) => [`${A}${k}`, v])),
      ...(extra.tls !== undefined ? { tls: extra.tls } : {}),
    });

  it('interprets a server-snippet location and a configuration-snippet (more_set_headers, return 403); a directive Traefik does not interpret leaves the router out', async () => {
    const from = proxy.logs.length;
    kube.apply(
      nginx('snip', 'snip.example', [{ path: '/', pathType: 'Prefix', service: 'a' }], {
        'server-snippet': 'location = /admin { return 404 "nope"; }',
        'configuration-snippet': `more_set_headers "X-Snippet: on";
if ($request_uri ~ "^/blocked") {
  return 403;
}
proxy_set_header X-From-Snippet $request_method;`,
      }),
    );
    kube.apply(
      nginx('snip-bad', 'snip-bad.example', [{ path: '/', pathType: 'Prefix', service: 'a' }], {
        'configuration-snippet': 'proxy_pass http://127.0.0.1:1;',
      }),
    );
    await until(from, async () => (await get('/ok', 'snip.example')).status === 200);
    const ok = await get('/ok', 'snip.example');
    assert.equal(ok.text, 'a /ok snip.example');
    assert.equal(ok.headers['x-snippet'], 'on');
    const blocked = await get('/blocked/x', 'snip.example');
    assert.equal(blocked.status, 403);
    assert.equal(blocked.headers['x-snippet'], 'on');
    assert.equal(blocked.text, '');
    // The server snippet's exact location answers before the configuration snippet runs.
    const admin = await get('/admin', 'snip.example');
    assert.equal(admin.status, 404);
    assert.equal(admin.text, 'nope');
    assert.equal(admin.headers['x-snippet'], undefined);
    assert.equal((await get('/admin/x', 'snip.example')).status, 200);
    // Traefik's New fails on proxy_pass: the router is not served. The second Ingress may come
    // in a later update than the first: wait for its refusal before asking it.
    await proxy.waitForLog((l) => /unsupported directive .{1,2}proxy_pass/.test(JSON.stringify(l)), 15_000);
    assert.equal((await get('/', 'snip-bad.example')).status, 404);
  });

  it('applies a configuration-snippet`s proxy_set_header after its more_set_input_headers (Traefik`s input filter, then content phase)', async () => {
    const from = proxy.logs.length;
    kube.apply(
      nginx('snip-order', 'snip-order.example', [{ path: '/', pathType: 'Prefix', service: 'h' }], {
        'configuration-snippet': `proxy_set_header X-Both from-proxy-set;
more_set_input_headers "X-Both: from-more-set" "X-Only-More: yes";`,
      }),
    );
    await until(from, async () => (await get('/', 'snip-order.example')).text.startsWith('{'));
    const seen = JSON.parse((await get('/', 'snip-order.example', { 'x-both': 'client' })).text) as {
      headers: Record<string, string>;
    };
    assert.deepEqual([seen.headers['x-both'], seen.headers['x-only-more']], ['from-proxy-set', 'yes']);
  });

  it('applies a server-snippet`s proxy_set_header and deny unless the configuration-snippet has its own (Traefik`s location collector over the server`s)', async () => {
    const from = proxy.logs.length;
    kube.apply(
      nginx('snip-server', 'snip-server.example', [{ path: '/', pathType: 'Prefix', service: 'h' }], {
        'server-snippet': 'proxy_set_header X-From-Server yes;\ndeny all;',
        'configuration-snippet': 'allow 127.0.0.0/8;',
      }),
    );
    kube.apply(
      nginx(
        'snip-server-only',
        'snip-server-only.example',
        [{ path: '/', pathType: 'Prefix', service: 'h' }],
        {
          'server-snippet': 'deny all;',
        },
      ),
    );
    await until(
      from,
      async () =>
        (await get('/', 'snip-server.example')).text.startsWith('{') &&
        (await get('/', 'snip-server-only.example')).status === 403,
    );
    const seen = JSON.parse((await get('/', 'snip-server.example')).text) as {
      headers: Record<string, string>;
    };
    assert.equal(seen.headers['x-from-server'], 'yes');
    assert.equal((await get('/', 'snip-server-only.example')).status, 403);
  });

  it('refuses with 400 a rewrite-target or snippet rewrite result that climbs (Traefik #13506, GHSA-8rxv-jg7p-wvg3)', async () => {
    const from = proxy.logs.length;
    kube.apply(
      nginx(
        'climb-rt',
        'climb-rt.example',
        [{ path: '/api(.*)', pathType: 'ImplementationSpecific', service: 'h' }],
        {
          'use-regex': 'true',
          'rewrite-target': '/$1',
        },
      ),
    );
    kube.apply(
      nginx('climb-snip', 'climb-snip.example', [{ path: '/', pathType: 'Prefix', service: 'h' }], {
        'configuration-snippet': 'rewrite ^/foo(.*)$ /$1 break;',
      }),
    );
    await until(
      from,
      async () =>
        (await get('/apiok', 'climb-rt.example')).text.startsWith('{') &&
        (await get('/fook', 'climb-snip.example')).text.startsWith('{'),
    );
    const before = h.seen.length;
    for (const [path, host] of [
      ['/api../admin', 'climb-rt.example'],
      ['/api%2e%2e/admin', 'climb-rt.example'],
      ['/foo../admin', 'climb-snip.example'],
    ] as const) {
      const r = await get(path, host);
      assert.equal(r.status, 400, `${host}${path}: ${r.text}`);
    }
    assert.equal(h.seen.length, before, 'nothing reached the backend');
    assert.equal((JSON.parse((await get('/apix', 'climb-rt.example')).text) as { url: string }).url, '/x');
    assert.equal((JSON.parse((await get('/fooy', 'climb-snip.example')).text) as { url: string }).url, '/y');
  });

  it('routes the Ingresses of its class by whole-segment prefix, and leaves the others', async () => {
    const from = proxy.logs.length;
    kube.apply(nginx('front', 'shop.example', [{ path: '/app', pathType: 'Prefix', service: 'a' }]));
    kube.apply(
      nginx(
        'other',
        'other.example',
        [{ path: '/', pathType: 'Prefix', service: 'a' }],
        {},
        { className: 'traefik' },
      ),
    );
    // The old annotation names the class too.
    const old = nginx(
      'legacy',
      'legacy.example',
      [{ path: '/', pathType: 'ImplementationSpecific', service: 'b' }],
      {},
      { className: '' },
    );
    delete (old.spec as { ingressClassName?: string }).ingressClassName;
    (old.metadata as unknown as { annotations: Record<string, string> }).annotations[
      'kubernetes.io/ingress.class'
    ] = 'nginx';
    kube.apply(old);
    await until(
      from,
      async () =>
        (await get('/app/x', 'shop.example')).status === 200 &&
        (await get('/x', 'legacy.example')).status === 200,
    );
    assert.equal((await get('/app/x', 'shop.example')).text, 'a /app/x shop.example');
    assert.equal((await get('/app', 'shop.example')).status, 200);
    assert.equal((await get('/apple', 'shop.example')).status, 404, 'a Prefix matches whole segments');
    assert.equal((await get('/', 'other.example')).status, 404, 'another class is not ours');
    assert.equal((await get('/x', 'legacy.example')).text, 'b /x legacy.example');
    const routers = (await (
      await fetch(`http://127.0.0.1:${proxy.ports['traefik']}/api/http/routers`)
    ).json()) as {
      name: string;
      rule: string;
    }[];
    const r = routers.find((x) => x.name === 'shop-front-rule-0-path-0@kubernetesingressnginx');
    assert.equal(r?.rule, 'Host("shop.example") && (Path("/app") || PathPrefix("/app/"))');
    assert.ok(routers.some((x) => x.name === 'shop-front-rule-0-path-0-tls@kubernetesingressnginx'));
    // Not on the internal `traefik` entry point, which has no TLS either (Traefik v3.7.x, #13629:
    // NonTLSEntryPoints leaves it out).
    const onAdmin = await new Promise<number>((resolve, reject) => {
      request(
        {
          port: proxy.ports['traefik'],
          host: '127.0.0.1',
          path: '/app/x',
          headers: { host: 'shop.example' },
          agent: false,
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      )
        .on('error', reject)
        .end();
    });
    assert.equal(onAdmin, 404, 'the Ingress is not served on the traefik entry point');
  });

  it('serves a TLS section`s certificate on HTTPS and redirects HTTP there (ssl-redirect)', async () => {
    const from = proxy.logs.length;
    kube.apply(secretFor('shop', 'secure-tls', { 'tls.crt': cert.certPem, 'tls.key': cert.keyPem }));
    kube.apply(
      nginx(
        'secure',
        'secure.example',
        [{ path: '/', pathType: 'Prefix', service: 'a' }],
        {},
        {
          tls: [{ hosts: ['secure.example'], secretName: 'secure-tls' }],
        },
      ),
    );
    await until(from, async () => (await get('/x', 'secure.example')).status === 308);
    assert.equal((await get('/x', 'secure.example')).headers.location, 'https://secure.example/x');
    const r = await new Promise<{ status: number; text: string; subject: string }>((resolve, reject) => {
      httpsRequest(
        {
          port: websecure,
          host: '127.0.0.1',
          path: '/y',
          servername: 'secure.example',
          headers: { host: 'secure.example' },
          ca: cert.certPem,
          agent: false,
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => {
            text += c.toString();
          });
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              text,
              subject: String((res.socket as import('node:tls').TLSSocket).getPeerCertificate().subject?.CN),
            }),
          );
        },
      )
        .on('error', reject)
        .end();
    });
    assert.deepEqual(r, { status: 200, text: 'a /y secure.example', subject: 'secure.example' });
  });

  it('rewrites with rewrite-target (a regex path), and the host`s other paths become regexes', async () => {
    const from = proxy.logs.length;
    kube.apply(
      nginx(
        'rewrite',
        'rw.example',
        [{ path: '/api(/|$)(.*)', pathType: 'ImplementationSpecific', service: 'b' }],
        {
          'rewrite-target': '/$2',
        },
      ),
    );
    await until(from, async () => (await get('/API/v1/items', 'rw.example')).status === 200);
    assert.equal((await get('/API/v1/items', 'rw.example')).text, 'b /v1/items rw.example');
    assert.equal((await get('/api', 'rw.example')).text, 'b / rw.example');
  });

  it('rewrites as Traefik v3.7`s RewriteTarget: X-Forwarded-Prefix from the match, no X-Replaced-Path, a 302 to an absolute target', async () => {
    const from = proxy.logs.length;
    kube.apply(
      nginx(
        'rt-prefix',
        'rtp.example',
        [{ path: '/(app)(/|$)(.*)', pathType: 'ImplementationSpecific', service: 'h' }],
        {
          'rewrite-target': '/$3',
          'x-forwarded-prefix': '/$1',
        },
      ),
    );
    kube.apply(
      nginx(
        'rt-abs',
        'rta.example',
        [{ path: '/old(/|$)(.*)', pathType: 'ImplementationSpecific', service: 'h' }],
        {
          'rewrite-target': 'https://new.example/$2',
        },
      ),
    );
    await until(
      from,
      async () =>
        (await get('/app/x', 'rtp.example')).status === 200 &&
        (await get('/old/y', 'rta.example')).status === 302,
    );
    const seen = JSON.parse((await get('/App/x/z?q=1', 'rtp.example')).text) as {
      url: string;
      headers: Record<string, string>;
    };
    assert.equal(seen.url, '/x/z?q=1');
    assert.equal(seen.headers['x-forwarded-prefix'], '/App');
    assert.equal(seen.headers['x-replaced-path'], undefined);
    const r = await get('/old/y/z?k=v', 'rta.example');
    assert.equal(r.status, 302);
    assert.equal(r.headers['location'], 'https://new.example/y/z?k=v');
  });

  it('sends custom-http-errors pages ingress-nginx`s X- fields as Traefik spells them (X-Namespaces), and the client the page`s own status (Traefik #12738)', async () => {
    const from = proxy.logs.length;
    kube.apply(
      nginx('errs', 'errs.example', [{ path: '/', pathType: 'Prefix', service: 'au' }], {
        'custom-http-errors': '401',
        'default-backend': 'h',
      }),
    );
    await until(from, async () => (await get('/x', 'errs.example')).text.startsWith('{'));
    const r = await get('/p/q?z=1', 'errs.example', { accept: 'application/json' });
    assert.equal(r.status, 200);
    const seen = JSON.parse(r.text) as { url: string; headers: Record<string, string> };
    assert.equal(seen.url, '/');
    const h = seen.headers;
    assert.deepEqual(
      [h['x-code'], h['x-format'], h['x-original-uri'], h['x-namespaces'], h['x-ingress-name']],
      ['401', 'application/json', '/p/q?z=1', 'shop', 'errs'],
    );
    // Traefik's translator sends the namespace as X-Namespaces only (ingress-nginx: X-Namespace).
    assert.equal(h['x-namespace'], undefined);
    assert.deepEqual([h['x-service-name'], h['x-service-port']], ['au', '80']);
  });

  it('asks for the users of auth-secret (auth-type basic)', async () => {
    const from = proxy.logs.length;
    // htpasswd's {SHA} of "pw".
    kube.apply(secretFor('shop', 'users', { auth: 'ann:{SHA}GpHWL3ymc5liWkNopqtdSjuqYHM=\n# comment\n' }));
    kube.apply(
      nginx('private', 'private.example', [{ path: '/', pathType: 'Prefix', service: 'a' }], {
        'auth-type': 'basic',
        'auth-secret': 'users',
        'auth-realm': 'Staff only',
      }),
    );
    await until(from, async () => (await get('/', 'private.example')).status === 401);
    assert.match(
      String((await get('/', 'private.example')).headers['www-authenticate']),
      /realm="Staff only"/,
    );
    const ok = await get('/', 'private.example', {
      authorization: `Basic ${Buffer.from('ann:pw').toString('base64')}`,
    });
    assert.deepEqual([ok.status, ok.text], [200, 'a / private.example']);
  });

  it('sets ingress-nginx`s sticky cookie with affinity: cookie', async () => {
    const from = proxy.logs.length;
    kube.apply(
      nginx('sticky', 'sticky.example', [{ path: '/', pathType: 'Prefix', service: 'a' }], {
        affinity: 'cookie',
        'session-cookie-name': 'route',
        'session-cookie-max-age': '60',
      }),
    );
    await until(from, async () => (await get('/', 'sticky.example')).status === 200);
    const cookie = String((await get('/', 'sticky.example')).headers['set-cookie']);
    assert.match(cookie, /^route=[^;]+; Path=\/; Max-Age=60; HttpOnly/);
    // session-cookie-expires: an Expires that far past the response (Traefik #13496).
    const from2 = proxy.logs.length;
    kube.apply(
      nginx('sticky', 'sticky.example', [{ path: '/', pathType: 'Prefix', service: 'a' }], {
        affinity: 'cookie',
        'session-cookie-name': 'route',
        'session-cookie-expires': '3600',
      }),
    );
    await until(from2, async () =>
      /Expires=/.test(String((await get('/', 'sticky.example')).headers['set-cookie'])),
    );
    const r = await get('/', 'sticky.example');
    const m = /^route=[^;]+; Path=\/; Expires=([^;]+); HttpOnly$/.exec(String(r.headers['set-cookie']));
    assert.ok(m, String(r.headers['set-cookie']));
    assert.ok(Date.parse(m[1]!) - Date.parse(String(r.headers['date'])) >= 3599_000);
  });

  it('sends canary-by-header requests to the canary, and splits by canary-weight', async () => {
    const from = proxy.logs.length;
    kube.apply(nginx('main', 'canary.example', [{ path: '/', pathType: 'Prefix', service: 'a' }]));
    kube.apply(
      nginx('main-canary', 'canary.example', [{ path: '/', pathType: 'Prefix', service: 'b' }], {
        canary: 'true',
        'canary-by-header': 'X-Canary',
      }),
    );
    await until(from, async () =>
      (await get('/', 'canary.example', { 'x-canary': 'always' })).text.startsWith('b'),
    );
    assert.equal((await get('/', 'canary.example', { 'x-canary': 'never' })).text, 'a / canary.example');
    assert.equal(
      (await get('/', 'canary.example')).text,
      'a / canary.example',
      'weight 0: none to the canary',
    );
    const at = proxy.logs.length;
    kube.apply(
      nginx('main-canary', 'canary.example', [{ path: '/', pathType: 'Prefix', service: 'b' }], {
        canary: 'true',
        'canary-weight': '25',
      }),
    );
    await until(at, async () => {
      let n = 0;
      for (let i = 0; i < 8; i++) if ((await get('/', 'canary.example')).text.startsWith('b')) n++;
      return n > 0;
    });
    const seen = { a: 0, b: 0 };
    for (let i = 0; i < 40; i++) {
      const t = (await get('/', 'canary.example')).text;
      seen[t.startsWith('b') ? 'b' : 'a']++;
    }
    // Smooth weighted round robin of 75:25: exactly 3:1 over whole cycles.
    assert.deepEqual(seen, { a: 30, b: 10 });
  });

  it('redirects with permanent-redirect, app-root and from-to-www-redirect, refuses with allowlist-source-range', async () => {
    const from = proxy.logs.length;
    kube.apply(
      nginx('moved', 'moved.example', [{ path: '/', pathType: 'Prefix', service: 'a' }], {
        'permanent-redirect': 'https://new.example/',
        'permanent-redirect-code': '308',
      }),
    );
    kube.apply(
      nginx('root', 'root.example', [{ path: '/', pathType: 'Prefix', service: 'a' }], {
        'app-root': '/app1',
      }),
    );
    kube.apply(
      nginx('www', 'www.site.example', [{ path: '/', pathType: 'Prefix', service: 'a' }], {
        'from-to-www-redirect': 'true',
      }),
    );
    kube.apply(
      nginx('walled', 'walled.example', [{ path: '/', pathType: 'Prefix', service: 'a' }], {
        'allowlist-source-range': '10.0.0.0/8, 192.168.0.0/16',
      }),
    );
    await until(from, async () => (await get('/', 'walled.example')).status === 403);
    const moved = await get('/x', 'moved.example');
    // The code given, whatever the method (Traefik's StatusCode); ours alone would be 301 for a GET.
    assert.deepEqual([moved.status, moved.headers.location], [308, 'https://new.example/']);
    const root = await get('/', 'root.example');
    assert.deepEqual([root.status, root.headers.location], [302, 'http://root.example/app1']);
    // Its query too (dropped), and a 302 whatever the method (Traefik's appRoot middleware).
    const rootQ = await get('/?x=1', 'root.example', {}, 'POST');
    assert.deepEqual([rootQ.status, rootQ.headers.location], [302, 'http://root.example/app1']);
    assert.equal((await get('/other', 'root.example')).status, 200);
    const www = await get('/a/b/', 'site.example');
    assert.deepEqual([www.status, www.headers.location], [308, 'http://www.site.example/a/b']);
    assert.equal((await get('/a', 'www.site.example')).text, 'a /a www.site.example');
  });

  it('answers CORS preflights (enable-cors), sets the upstream Host (upstream-vhost) and ConfigMap headers', async () => {
    const from = proxy.logs.length;
    kube.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'hdrs', namespace: 'shop' },
      data: { 'X-Frame-Options': 'DENY' },
    });
    kube.apply(
      nginx('cors', 'cors.example', [{ path: '/', pathType: 'Prefix', service: 'a' }], {
        'enable-cors': 'true',
        'cors-allow-origin': 'https://app.example',
        'upstream-vhost': 'internal.example',
        'custom-headers': 'shop/hdrs',
      }),
    );
    await until(from, async () => (await get('/', 'cors.example')).text === 'a / internal.example');
    assert.equal((await get('/', 'cors.example')).headers['x-frame-options'], 'DENY');
    const pre = await get(
      '/',
      'cors.example',
      { origin: 'https://app.example', 'access-control-request-method': 'PUT' },
      'OPTIONS',
    );
    assert.equal(pre.headers['access-control-allow-origin'], 'https://app.example');
    assert.equal(pre.headers['access-control-allow-credentials'], 'true');
    assert.match(String(pre.headers['access-control-allow-methods']), /PUT/);
    // upstream-vhost's nginx variables, per request (Traefik's UpstreamVhost middleware).
    const from2 = proxy.logs.length;
    kube.apply(
      nginx('vhost', 'vhost.example', [{ path: '/', pathType: 'Prefix', service: 'a' }], {
        'upstream-vhost': '$http_x_tenant.$service_name.$namespace',
      }),
    );
    await until(from2, async () => (await get('/', 'vhost.example', { 'x-tenant': 't1' })).status === 200);
    assert.equal((await get('/', 'vhost.example', { 'x-tenant': 't2' })).text, 'a / t2.a.shop');
  });

  it('asks auth-url first: its 401 sends to auth-signin, its 2xx lets in with auth-response-headers', async () => {
    const from = proxy.logs.length;
    kube.apply(
      nginx('guarded', 'guarded.example', [{ path: '/', pathType: 'Prefix', service: 'c' }], {
        'auth-url': `http://127.0.0.1:${auth.port}/check`,
        'auth-signin': 'https://login.example/start?rd=$scheme://$host$request_uri',
        'auth-response-headers': 'X-User',
      }),
    );
    await until(from, async () => (await get('/page', 'guarded.example')).status === 302);
    assert.equal(
      (await get('/page?a=1', 'guarded.example')).headers.location,
      'https://login.example/start?rd=http://guarded.example/page?a=1',
    );
    const ok = await get('/page', 'guarded.example', { authorization: 'Bearer good' });
    assert.deepEqual([ok.status, ok.text], [200, 'c /page user=ann']);
  });

  it('asks every auth server an auth-url template names, more than the 64 pools it keeps (Traefik`s one http.Client)', async () => {
    // 66 auth servers; the template takes the port from the request. The 65th and 66th were 500.
    const servers = await Promise.all(
      Array.from({ length: 66 }, (_, i) =>
        startBackend((_req, res) => {
          res.setHeader('X-User', `u${i}`);
          res.end();
        }),
      ),
    );
    try {
      const from = proxy.logs.length;
      kube.apply(
        nginx('many-auth', 'many-auth.example', [{ path: '/', pathType: 'Prefix', service: 'c' }], {
          'auth-url': 'http://127.0.0.1:$http_x_auth_port/check',
          'auth-response-headers': 'X-User',
        }),
      );
      const ask = (i: number) => get('/', 'many-auth.example', { 'x-auth-port': String(servers[i]!.port) });
      await until(from, async () => (await ask(0)).status === 200);
      for (let i = 0; i < servers.length; i++) {
        const r = await ask(i);
        assert.deepEqual([r.status, r.text], [200, `c / user=u${i}`], `auth server ${i}`);
      }
      // The first one's pool was closed to make room: it is asked again on a new one.
      const before = servers[0]!.seen.length;
      assert.equal((await ask(0)).status, 200);
      assert.equal(servers[0]!.seen.length, before + 1);
      assert.ok(servers.every((b) => b.seen.length > 0));
    } finally {
      await Promise.all(servers.map((b) => b.close()));
    }
  });

  it('replaces auth-url`s nginx variables per request, runs auth-snippet on the auth request, sends auth-method, appends rd= to auth-signin (Traefik`s Snippet auth)', async () => {
    const from = proxy.logs.length;
    kube.apply(
      nginx('guarded2', 'guarded2.example', [{ path: '/', pathType: 'Prefix', service: 'h' }], {
        // Its proxy_set_header comes after the auth request (Traefik's content phase).
        'configuration-snippet': 'proxy_set_header X-From-Snippet yes;',
        'auth-url': `http://127.0.0.1:${auth.port}/check?uri=$escaped_request_uri&host=$host`,
        'auth-signin': 'https://login.example/start',
        'auth-method': 'POST',
        'auth-snippet': 'proxy_set_header X-Probe-Seen $http_x_probe;',
        'auth-response-headers': 'X-User',
      }),
    );
    await until(from, async () => (await get('/p', 'guarded2.example')).status === 302);
    const r = await get('/p/q?z=1', 'guarded2.example', { 'x-probe': 'pr' });
    assert.equal(
      r.headers.location,
      'https://login.example/start?rd=http://guarded2.example%2Fp%2Fq%3Fz%3D1',
    );
    assert.equal(lastAuth?.method, 'POST');
    assert.equal(lastAuth?.url, '/check?uri=%2Fp%2Fq%3Fz%3D1&host=guarded2.example');
    assert.equal(lastAuth?.headers['x-probe-seen'], 'pr');
    assert.equal(lastAuth?.headers['x-forwarded-uri'], '/p/q?z=1');
    assert.equal(lastAuth?.headers['x-from-snippet'], undefined);
    const ok = await get('/p', 'guarded2.example', { authorization: 'Bearer good' });
    assert.equal(ok.status, 200);
    const seen = JSON.parse(ok.text) as { headers: Record<string, string> };
    assert.deepEqual([seen.headers['x-user'], seen.headers['x-from-snippet']], ['ann', 'yes']);
  });

  it('refuses a body over proxy-body-size (413), as nginx`s client_max_body_size', async () => {
    const from = proxy.logs.length;
    kube.apply(
      nginx('upload', 'upload.example', [{ path: '/', pathType: 'Prefix', service: 'a' }], {
        'proxy-body-size': '1k',
      }),
    );
    await until(from, async () => (await get('/', 'upload.example')).status === 200);
    const post = (size: number): Promise<number> =>
      new Promise((resolve, reject) => {
        const body = Buffer.alloc(size, 'x');
        request(
          {
            port: web,
            host: '127.0.0.1',
            path: '/up',
            method: 'POST',
            headers: { host: 'upload.example', 'content-length': body.length },
            agent: false,
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        )
          .on('error', reject)
          .end(body);
      });
    assert.equal(await post(1000), 200);
    assert.equal(await post(4096), 413);
  });

  it('passes TLS through to the backend by SNI with ssl-passthrough (its own certificate)', async (t) => {
    const own = selfSignedCertificate(['pass.example']);
    const server = createTlsServer({ cert: own.certPem, key: own.keyPem }, (sock) => {
      sock.end('passed through\n');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => new Promise<void>((r) => server.close(() => r())));
    const port = (server.address() as { port: number }).port;
    const from = proxy.logs.length;
    for (const o of loopbackServices('shop', { tlsapp: port })) kube.apply(o);
    kube.apply(
      nginx('pass', 'pass.example', [{ path: '/', pathType: 'Prefix', service: 'tlsapp' }], {
        'ssl-passthrough': 'true',
      }),
    );
    const hello = () =>
      new Promise<{ ok: boolean; text: string }>((resolve) => {
        const s = connect({
          port: websecure,
          host: '127.0.0.1',
          servername: 'pass.example',
          ca: own.certPem,
        });
        let text = '';
        s.on('data', (c: Buffer) => {
          text += c.toString();
        });
        s.once('end', () => resolve({ ok: s.authorized, text }));
        s.once('error', () => resolve({ ok: false, text }));
      });
    await until(from, async () => (await hello()).ok);
    // The backend's own certificate (the proxy holds none for pass.example) and its bytes.
    assert.deepEqual(await hello(), { ok: true, text: 'passed through\n' });
  });

  it('never reaches the backend through the www. router of from-to-www-redirect (GHSA-cjr6-pf59-jq29)', async () => {
    // Traefik v3.7.0 to v3.7.11 pointed that router, which carries the redirect only, at the
    // protected backend: a Host the redirect's pattern misses (`www.….:x`) went through without
    // the Ingress's middlewares (its auth). Ours answers from an empty service instead.
    const from = proxy.logs.length;
    kube.apply(secretFor('shop', 'www-users', { auth: 'ann:{SHA}GpHWL3ymc5liWkNopqtdSjuqYHM=\n' }));
    kube.apply(
      nginx('www', 'www-auth.example', [{ path: '/', pathType: 'Prefix', service: 'a' }], {
        'auth-type': 'basic',
        'auth-secret': 'www-users',
        'from-to-www-redirect': 'true',
      }),
    );
    await until(
      from,
      async () =>
        (await get('/x', 'www.www-auth.example')).status === 308 &&
        (await get('/x', 'www-auth.example')).status === 401,
    );
    const before = a.seen.length;
    assert.equal((await get('/x', 'www-auth.example')).status, 401);
    assert.equal((await get('/x', 'www.www-auth.example')).headers.location, 'http://www-auth.example/x');
    for (const host of ['www.www-auth.example:x', 'www.www-auth.example:', 'WWW.www-auth.example:80x']) {
      const r = await get('/x', host);
      assert.notEqual(r.status, 200, `${host}: ${r.status} ${r.text}`);
      assert.ok(r.status === 400 || r.status === 503 || r.status === 308, `${host}: ${r.status}`);
    }
    assert.equal(a.seen.length, before, 'nothing reached the backend');
  });

  it('asks for a client certificate on a host two Ingresses share with one auth-tls policy (GHSA-j994-9gqj-9hwq)', async () => {
    // Traefik before v3.7.11 named the options after each Ingress: two sets for one host, a
    // conflict, the default options (no client certificate) on that host's handshakes.
    const pki = new TestPki('nginx mTLS CA');
    try {
      const client = pki.issue('client', []);
      const server = pki.issue('mtls.example', ['mtls.example']);
      const from = proxy.logs.length;
      kube.apply(secretFor('shop', 'mtls-ca', { 'ca.crt': pki.ca.certPem }));
      kube.apply(secretFor('shop', 'mtls-tls', { 'tls.crt': server.certPem, 'tls.key': server.keyPem }));
      const mtls = { 'auth-tls-secret': 'shop/mtls-ca', 'auth-tls-verify-client': 'on' };
      const tls = { tls: [{ hosts: ['mtls.example'], secretName: 'mtls-tls' }] };
      kube.apply(
        nginx('mtls-one', 'mtls.example', [{ path: '/one', pathType: 'Prefix', service: 'a' }], mtls, tls),
      );
      kube.apply(
        nginx('mtls-two', 'mtls.example', [{ path: '/two', pathType: 'Prefix', service: 'b' }], mtls, tls),
      );
      const call = (path: string, withCert: boolean): Promise<number | string> =>
        new Promise((resolve) => {
          httpsRequest(
            {
              port: websecure,
              host: '127.0.0.1',
              path,
              servername: 'mtls.example',
              headers: { host: 'mtls.example' },
              ca: pki.ca.certPem,
              ...(withCert ? { cert: client.certPem, key: client.keyPem } : {}),
              agent: false,
            },
            (res) => {
              res.resume();
              res.on('end', () => resolve(res.statusCode ?? 0));
            },
          )
            .on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message))
            .end();
        });
      await until(from, async () => (await call('/one', true)) === 200 && (await call('/two', true)) === 200);
      for (const path of ['/one', '/two']) {
        const r = await call(path, false);
        assert.equal(typeof r, 'string', `${path} without a client certificate: ${r}`);
      }
    } finally {
      pki.remove();
    }
  });

  it('passes the client certificate to the backend with auth-tls-pass-certificate-to-upstream (Traefik v3.7`s AuthTLSPassCertificateToUpstream)', async () => {
    const pki = new TestPki('nginx pass CA');
    try {
      const client = pki.issue('passer', []);
      const server = pki.issue('pass.example', ['pass.example']);
      const from = proxy.logs.length;
      kube.apply(secretFor('shop', 'pass-ca', { 'ca.crt': pki.ca.certPem }));
      kube.apply(secretFor('shop', 'pass-tls', { 'tls.crt': server.certPem, 'tls.key': server.keyPem }));
      kube.apply(
        nginx(
          'passing',
          'pass.example',
          [{ path: '/', pathType: 'Prefix', service: 'h' }],
          {
            'auth-tls-secret': 'shop/pass-ca',
            'auth-tls-verify-client': 'on',
            'auth-tls-pass-certificate-to-upstream': 'true',
          },
          { tls: [{ hosts: ['pass.example'], secretName: 'pass-tls' }] },
        ),
      );
      const call = (): Promise<string> =>
        new Promise((resolve) => {
          httpsRequest(
            {
              port: websecure,
              host: '127.0.0.1',
              path: '/',
              servername: 'pass.example',
              headers: { host: 'pass.example' },
              ca: pki.ca.certPem,
              cert: client.certPem,
              key: client.keyPem,
              agent: false,
            },
            (res) => {
              let text = '';
              res.setEncoding('utf8');
              res.on('data', (c: string) => {
                text += c;
              });
              res.on('end', () => resolve(text));
            },
          )
            .on('error', (e: Error) => resolve(e.message))
            .end();
        });
      await until(from, async () => (await call()).includes('ssl-client-verify'));
      const seen = JSON.parse(await call()) as { headers: Record<string, string> };
      const h = seen.headers;
      assert.equal(h['ssl-client-verify'], 'SUCCESS');
      assert.equal(h['ssl-client-subject-dn'], 'CN=passer');
      assert.match(h['ssl-client-issuer-dn'] ?? '', /CN=nginx pass CA/);
      assert.equal(decodeURIComponent(h['ssl-client-cert'] ?? ''), client.certPem.replace(/\r\n/g, '\n'));
      assert.doesNotMatch(h['ssl-client-cert'] ?? '', /[ +\n]/);
    } finally {
      pki.remove();
    }
  });

  it('lets any client certificate through with auth-tls-verify-client: optional_no_ca and tells the backend Go`s verdict (Traefik`s RequestClientCert, cert.Verify)', async () => {
    const pki = new TestPki('nginx optional CA');
    // Same CA name, another key: a candidate whose signature does not check (Go's hint).
    const impostor = new TestPki('nginx optional CA');
    try {
      const good = pki.issue('good', []);
      const expired = pki.issue('old', [], { expired: true });
      const ocsp = pki.issueOcspSigner('ocsp-only');
      const forged = impostor.issue('forged', []);
      const own = selfSignedCertificate(['self.example']);
      const server = pki.issue('optional.example', ['optional.example']);
      const from = proxy.logs.length;
      kube.apply(secretFor('shop', 'optional-ca', { 'ca.crt': pki.ca.certPem }));
      kube.apply(secretFor('shop', 'optional-tls', { 'tls.crt': server.certPem, 'tls.key': server.keyPem }));
      kube.apply(
        nginx(
          'optional',
          'optional.example',
          [{ path: '/', pathType: 'Prefix', service: 'h' }],
          {
            'auth-tls-secret': 'shop/optional-ca',
            'auth-tls-verify-client': 'optional_no_ca',
            'auth-tls-pass-certificate-to-upstream': 'true',
          },
          { tls: [{ hosts: ['optional.example'], secretName: 'optional-tls' }] },
        ),
      );
      const call = (client?: {
        certPem: string;
        keyPem: string;
      }): Promise<{ status: number; text: string }> =>
        new Promise((resolve) => {
          httpsRequest(
            {
              port: websecure,
              host: '127.0.0.1',
              path: '/',
              servername: 'optional.example',
              headers: { host: 'optional.example' },
              ca: pki.ca.certPem,
              ...(client === undefined ? {} : { cert: client.certPem, key: client.keyPem }),
              agent: false,
            },
            (res) => {
              let text = '';
              res.setEncoding('utf8');
              res.on('data', (c: string) => {
                text += c;
              });
              res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
            },
          )
            .on('error', (e: Error) => resolve({ status: 0, text: e.message }))
            .end();
        });
      await until(from, async () => (await call(good)).text.includes('ssl-client-verify'));
      const verdict = async (client?: { certPem: string; keyPem: string }): Promise<string> => {
        const r = await call(client);
        // The handshake takes any certificate: the client always reaches the backend.
        assert.equal(r.status, 200, r.text);
        return (JSON.parse(r.text) as { headers: Record<string, string> }).headers['ssl-client-verify'] ?? '';
      };
      assert.equal(await verdict(), 'NONE');
      assert.equal(await verdict(good), 'SUCCESS');
      assert.match(
        await verdict(expired),
        /^FAILED:x509: certificate has expired or is not yet valid: current time \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ is after 2020-02-01T00:00:00Z$/,
      );
      assert.equal(await verdict(ocsp), 'FAILED:x509: certificate specifies an incompatible key usage');
      assert.equal(
        await verdict(forged),
        'FAILED:x509: certificate signed by unknown authority (possibly because of "x509: ECDSA verification failure" while trying to verify candidate authority certificate "nginx optional CA")',
      );
      assert.equal(await verdict(own), 'FAILED:x509: certificate signed by unknown authority');
    } finally {
      pki.remove();
      impostor.remove();
    }
  });

  it('writes publishStatusAddress in the status of the Ingresses it handles', async () => {
    const written = await kube.waitForWrite(/^PUT .*\/namespaces\/shop\/ingresses\/front\/status$/);
    assert.deepEqual(written['status'], {
      loadBalancer: { ingress: [{ ip: '192.0.2.7' }, { hostname: 'lb.example' }] },
    });
  });
});
