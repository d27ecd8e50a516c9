import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { middlewareSchemas } from '../../config/dynamic/middlewares.ts';
import type { DirectResponse } from '../../core/request.ts';
import { headersFactory } from '../headers/headers.ts';
import { build, makeRequest, makeResponse, testContext } from '../test-request.ts';

function field(res: DirectResponse | undefined, name: string): string | undefined {
  return res?.headers?.find(([n]) => n.toLowerCase() === name)?.[1];
}

const preflightOf = (origin: string) =>
  makeRequest('https://api.test/items', {
    method: 'OPTIONS',
    headers: [
      ['Origin', origin],
      ['Access-Control-Request-Method', 'PUT'],
    ],
  });

describe('headers: custom headers', () => {
  it('sets and removes request headers, an empty value removing the field', () => {
    const m = build('headers', { customRequestHeaders: { 'X-Script-Name': 'test', 'X-Remove': '' } });
    const req = makeRequest('http://a.test/', {
      headers: [
        ['X-Remove', 'a'],
        ['x-script-name', 'old'],
        ['X-Remove', 'b'],
      ],
    });
    assert.equal(m.onRequest!(req), undefined);
    assert.deepEqual(req.headers.getAll('x-script-name'), ['test']);
    assert.equal(req.headers.has('x-remove'), false);
  });

  it('X-Forwarded-For: the value set or removed, and exactly `X-Forwarded-For: ""` is Go\'s nil field', () => {
    // The peer is not in the field: Traefik's proxy appends it when it writes the request
    // upstream (OutgoingRequest.forwardedFor), so the middleware only sets or removes.
    const at = (config: Record<string, string>, omitBefore = false) => {
      const req = makeRequest('http://a.test/', { headers: [['X-Forwarded-For', '10.0.0.1']] });
      req.omitForwardedFor = omitBefore;
      build('headers', { customRequestHeaders: config }).onRequest!(req);
      return [req.headers.getAll('x-forwarded-for'), req.omitForwardedFor];
    };
    assert.deepEqual(at({ 'X-Forwarded-For': '198.51.100.1' }), [['198.51.100.1'], false]);
    // header.go modifyCustomRequestHeaders: nil under exactly that name (nothing goes upstream),
    // Header.Del under another spelling (the proxy then sends the peer alone).
    assert.deepEqual(at({ 'X-Forwarded-For': '' }), [[], true]);
    assert.deepEqual(at({ 'x-forwarded-for': '' }), [[], false]);
    // A later Set or Del of the field is no longer nil, as in Go.
    assert.deepEqual(at({ 'X-Forwarded-For': '198.51.100.1' }, true), [['198.51.100.1'], false]);
    assert.deepEqual(at({ 'x-forwarded-for': '' }, true), [[], false]);
    assert.deepEqual(at({ 'X-Other': '1' }, true), [['10.0.0.1'], true]);
  });

  it('takes YAML numbers and booleans as header values', () => {
    const m = build('headers', { customRequestHeaders: { 'X-Count': 3, 'X-On': true } });
    const req = makeRequest('http://a.test/');
    m.onRequest!(req);
    assert.equal(req.headers.get('x-count'), '3');
    assert.equal(req.headers.get('x-on'), 'true');
  });

  it('sets response headers and removes a response header configured with an empty value', () => {
    const m = build('headers', { customResponseHeaders: { 'X-Custom': 'v', Server: '' } });
    const res = makeResponse(200, [
      ['Server', 'nginx'],
      ['X-Custom', 'backend'],
    ]);
    m.onResponse!(makeRequest('http://a.test/'), res);
    assert.equal(res.headers.has('server'), false);
    assert.deepEqual(res.headers.getAll('x-custom'), ['v']);
  });

  it('refuses header values with CR or LF and invalid header names', () => {
    assert.equal(
      middlewareSchemas.headers.safeParse({ customRequestHeaders: { 'X-A': 'a\r\nB: c' } }).success,
      false,
    );
    assert.equal(
      middlewareSchemas.headers.safeParse({ customResponseHeaders: { 'Bad Name': 'x' } }).success,
      false,
    );
  });

  it('rejects keys it does not implement instead of ignoring them', () => {
    for (const key of ['accessControlAllowOrigin', 'nope']) {
      const r = middlewareSchemas.headers.safeParse({ [key]: true });
      assert.equal(r.success, false, key);
    }
  });

  it('refuses a headers middleware with no option set, as Traefik does', () => {
    assert.ok('error' in headersFactory.create(middlewareSchemas.headers.parse({}), testContext()));
  });
});

describe('headers: CORS', () => {
  const cors = {
    accessControlAllowMethods: ['GET', 'OPTIONS', 'PUT'],
    accessControlAllowHeaders: ['Content-Type', 'X-Token'],
    accessControlAllowOriginList: ['https://app.test'],
    accessControlMaxAge: 100,
    accessControlAllowCredentials: true,
  };

  it('answers CORS preflight with 200 and the CORS headers', () => {
    const res = build('headers', cors).onRequest!(preflightOf('https://app.test'));
    assert.equal(res?.status, 200);
    assert.equal(field(res, 'access-control-allow-origin'), 'https://app.test');
    assert.equal(field(res, 'access-control-allow-methods'), 'GET,OPTIONS,PUT');
    assert.equal(field(res, 'access-control-allow-headers'), 'Content-Type,X-Token');
    assert.equal(field(res, 'access-control-max-age'), '100');
    assert.equal(field(res, 'access-control-allow-credentials'), 'true');
  });

  it('answers a preflight from an unlisted origin without Access-Control-Allow-Origin', () => {
    const res = build('headers', cors).onRequest!(preflightOf('https://evil.test'));
    assert.equal(res?.status, 200);
    assert.equal(field(res, 'access-control-allow-origin'), undefined);
  });

  it('passes an OPTIONS request without Access-Control-Request-Method to the service', () => {
    const req = makeRequest('https://api.test/', {
      method: 'OPTIONS',
      headers: [['Origin', 'https://app.test']],
    });
    assert.equal(build('headers', cors).onRequest!(req), undefined);
  });

  it('adds Access-Control-Allow-Origin to the response of a simple request', () => {
    const m = build('headers', { ...cors, accessControlExposeHeaders: ['X-Total'] });
    const req = makeRequest('https://api.test/', { headers: [['Origin', 'https://app.test']] });
    const res = makeResponse(200, [['Access-Control-Allow-Origin', '*']]);
    assert.equal(m.onRequest!(req), undefined);
    m.onResponse!(req, res);
    assert.deepEqual(res.headers.getAll('access-control-allow-origin'), ['https://app.test']);
    assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
    assert.equal(res.headers.get('access-control-expose-headers'), 'X-Total');
  });

  it('answers * for the wildcard origin', () => {
    const m = build('headers', { accessControlAllowOriginList: ['*'] });
    const req = makeRequest('https://api.test/', { headers: [['Origin', 'https://x.test']] });
    const res = makeResponse();
    m.onResponse!(req, res);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
  });

  it('reflects an origin matched by accessControlAllowOriginListRegex', () => {
    const m = build('headers', { accessControlAllowOriginListRegex: ['^https://([a-z]+\\.)?app\\.test$'] });
    const ok = makeRequest('https://api.test/', { headers: [['Origin', 'https://eu.app.test']] });
    const bad = makeRequest('https://api.test/', { headers: [['Origin', 'https://app.test.evil']] });
    const r1 = makeResponse();
    const r2 = makeResponse();
    m.onResponse!(ok, r1);
    m.onResponse!(bad, r2);
    assert.equal(r1.headers.get('access-control-allow-origin'), 'https://eu.app.test');
    assert.equal(r2.headers.has('access-control-allow-origin'), false);
  });

  it('adds Origin to Vary when addVaryHeader is set, once', () => {
    const m = build('headers', { accessControlAllowOriginList: ['https://app.test'], addVaryHeader: true });
    const req = makeRequest('https://api.test/', { headers: [['Origin', 'https://app.test']] });
    const none = makeResponse();
    const one = makeResponse(200, [['Vary', 'Accept-Encoding']]);
    const already = makeResponse(200, [['Vary', 'accept-encoding, Origin']]);
    for (const r of [none, one, already]) m.onResponse!(req, r);
    assert.deepEqual(none.headers.getAll('vary'), ['Origin']);
    assert.deepEqual(one.headers.getAll('vary'), ['Accept-Encoding,Origin']);
    assert.deepEqual(already.headers.getAll('vary'), ['accept-encoding, Origin']);
  });
});

describe('headers: CORS as Traefik has it since June 2026 (PRs 13368, 13371)', () => {
  const withHeaders = (req: ReturnType<typeof makeRequest>, extra: [string, string][]) => {
    for (const [n, v] of extra) req.headers.append(n, v);
    return req;
  };

  it('sends Access-Control-Max-Age only when configured, 0 included', () => {
    const none = build('headers', { accessControlAllowOriginList: ['*'] }).onRequest!(
      preflightOf('https://x.test'),
    );
    assert.equal(field(none, 'access-control-max-age'), undefined);
    const zero = build('headers', { accessControlMaxAge: 0 }).onRequest!(preflightOf('https://x.test'));
    assert.equal(zero?.status, 200, 'accessControlMaxAge: 0 alone is a CORS option');
    assert.equal(field(zero, 'access-control-max-age'), '0');
  });

  it('sends Access-Control-Expose-Headers on the preflight too', () => {
    const r = build('headers', { accessControlExposeHeaders: ['X-Total', 'X-Page'] }).onRequest!(
      preflightOf('https://x.test'),
    );
    assert.equal(field(r, 'access-control-expose-headers'), 'X-Total,X-Page');
  });

  it('with credentials, answers a wildcard with what the request asked for', () => {
    const m = build('headers', {
      accessControlAllowCredentials: true,
      accessControlAllowOriginList: ['*'],
      accessControlAllowMethods: ['*'],
      accessControlAllowHeaders: ['*'],
      accessControlExposeHeaders: ['*'],
    });
    const asked = withHeaders(preflightOf('https://x.test'), [
      ['Access-Control-Request-Headers', 'x-a, x-b'],
    ]);
    const r = m.onRequest!(asked);
    assert.equal(field(r, 'access-control-allow-origin'), 'https://x.test');
    assert.equal(field(r, 'access-control-allow-methods'), 'PUT');
    assert.equal(field(r, 'access-control-allow-headers'), 'x-a, x-b');
    assert.equal(field(r, 'access-control-expose-headers'), undefined);
    assert.equal(field(r, 'access-control-allow-credentials'), 'true');
    // No Access-Control-Request-Headers: no Access-Control-Allow-Headers.
    assert.equal(
      field(m.onRequest!(preflightOf('https://x.test')), 'access-control-allow-headers'),
      undefined,
    );
    const res = makeResponse();
    m.onResponse!(makeRequest('https://api.test/', { headers: [['Origin', 'https://y.test']] }), res);
    assert.equal(res.headers.get('access-control-allow-origin'), 'https://y.test');
    assert.equal(res.headers.has('access-control-expose-headers'), false);
    // No Origin: nothing to reflect (Traefik sends the field empty).
    const bare = makeResponse();
    m.onResponse!(makeRequest('https://api.test/'), bare);
    assert.equal(bare.headers.has('access-control-allow-origin'), false);
  });

  it('without credentials, a wildcard stays a wildcard', () => {
    const m = build('headers', {
      accessControlAllowOriginList: ['*'],
      accessControlAllowMethods: ['*'],
      accessControlAllowHeaders: ['*'],
      accessControlExposeHeaders: ['*'],
    });
    const r = m.onRequest!(preflightOf('https://x.test'));
    assert.equal(field(r, 'access-control-allow-origin'), '*');
    assert.equal(field(r, 'access-control-allow-methods'), '*');
    assert.equal(field(r, 'access-control-allow-headers'), '*');
    assert.equal(field(r, 'access-control-expose-headers'), '*');
  });
});

describe('headers: the answers of the secure part go through the custom-headers part', () => {
  it('Bad Host and the SSL redirect get customResponseHeaders and CORS fields, not the security headers', () => {
    const m = build('headers', {
      allowedHosts: ['good.test'],
      sslRedirect: true,
      frameDeny: true,
      customResponseHeaders: { 'X-Served-By': 'edge' },
      accessControlAllowOriginList: ['*'],
    });
    const bad = m.onRequest!(makeRequest('http://evil.test/', { headers: [['Origin', 'https://o.test']] }));
    assert.equal(bad?.status, 500);
    assert.equal(field(bad, 'x-served-by'), 'edge');
    assert.equal(field(bad, 'access-control-allow-origin'), '*');
    assert.equal(field(bad, 'x-frame-options'), undefined);
    const moved = m.onRequest!(makeRequest('http://good.test/'));
    assert.equal(moved?.status, 301);
    assert.equal(field(moved, 'x-served-by'), 'edge');
  });
});

describe('headers: security', () => {
  const secure = {
    frameDeny: true,
    contentTypeNosniff: true,
    browserXssFilter: true,
    referrerPolicy: 'no-referrer',
    contentSecurityPolicy: "default-src 'self'",
    permissionsPolicy: 'camera=()',
    stsSeconds: 31536000,
    stsIncludeSubdomains: true,
    stsPreload: true,
  };

  it('adds security headers to responses, overriding the backend', () => {
    const res = makeResponse(200, [['X-Frame-Options', 'ALLOWALL']]);
    build('headers', secure).onResponse!(makeRequest('https://a.test/'), res);
    assert.deepEqual(res.headers.getAll('x-frame-options'), ['DENY']);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('x-xss-protection'), '1; mode=block');
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
    assert.equal(res.headers.get('content-security-policy'), "default-src 'self'");
    assert.equal(res.headers.get('permissions-policy'), 'camera=()');
    assert.equal(
      res.headers.get('strict-transport-security'),
      'max-age=31536000; includeSubDomains; preload',
    );
  });

  it('sends Strict-Transport-Security only over https unless forced', () => {
    const plain = makeResponse();
    build('headers', secure).onResponse!(makeRequest('http://a.test/'), plain);
    assert.equal(plain.headers.has('strict-transport-security'), false);
    const forced = makeResponse();
    build('headers', { ...secure, forceSTSHeader: true }).onResponse!(makeRequest('http://a.test/'), forced);
    assert.equal(
      forced.headers.get('strict-transport-security'),
      'max-age=31536000; includeSubDomains; preload',
    );
  });

  it('treats a request as https when an sslProxyHeaders field matches', () => {
    const res = makeResponse();
    const req = makeRequest('http://a.test/', { headers: [['X-Forwarded-Proto', 'https']] });
    build('headers', { stsSeconds: 60, sslProxyHeaders: { 'X-Forwarded-Proto': 'https' } }).onResponse!(
      req,
      res,
    );
    assert.equal(res.headers.get('strict-transport-security'), 'max-age=60');
  });

  it('prefers customFrameOptionsValue over frameDeny', () => {
    const res = makeResponse();
    build('headers', { frameDeny: true, customFrameOptionsValue: 'SAMEORIGIN' }).onResponse!(
      makeRequest('https://a.test/'),
      res,
    );
    assert.equal(res.headers.get('x-frame-options'), 'SAMEORIGIN');
  });

  it('lets a custom response header remove a security header', () => {
    const res = makeResponse();
    build('headers', { frameDeny: true, customResponseHeaders: { 'X-Frame-Options': '' } }).onResponse!(
      makeRequest('https://a.test/'),
      res,
    );
    assert.equal(res.headers.has('x-frame-options'), false);
  });

  it('answers 500 Bad Host for a host outside allowedHosts, looking at hostsProxyHeaders first', () => {
    const m = build('headers', { allowedHosts: ['good.test'], hostsProxyHeaders: ['X-Forwarded-Host'] });
    assert.equal(m.onRequest!(makeRequest('http://good.test/')), undefined);
    assert.equal(m.onRequest!(makeRequest('http://evil.test/'))?.status, 500);
    const proxied = makeRequest('http://evil.test/', { headers: [['X-Forwarded-Host', 'GOOD.test']] });
    assert.equal(m.onRequest!(proxied), undefined);
  });

  it('skips the allowed-hosts check and STS when isDevelopment is set', () => {
    const m = build('headers', { allowedHosts: ['good.test'], stsSeconds: 60, isDevelopment: true });
    assert.equal(m.onRequest!(makeRequest('https://evil.test/')), undefined);
    const res = makeResponse();
    m.onResponse!(makeRequest('https://evil.test/'), res);
    assert.equal(res.headers.has('strict-transport-security'), false);
  });
});

describe('headers: unrolled/secure details', () => {
  it('replaces $NONCE with a fresh nonce per response, the same in both policies', () => {
    const m = build('headers', {
      contentSecurityPolicy: 'script-src $NONCE',
      contentSecurityPolicyReportOnly: 'default-src $NONCE',
    });
    const seen = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const res = makeResponse();
      m.onResponse!(makeRequest('https://a.test/'), res);
      const csp = res.headers.get('content-security-policy') ?? '';
      const m1 = /^script-src '(nonce-[A-Za-z0-9+/]{22}==)'$/.exec(csp);
      assert.ok(m1, csp);
      assert.equal(res.headers.get('content-security-policy-report-only'), `default-src '${m1[1]}'`);
      seen.add(m1[1]!);
    }
    assert.equal(seen.size, 3);
  });

  it("turns a backend's Location to http://sslHost into https over TLS", () => {
    const m = build('headers', { sslHost: 'secure.test' });
    for (const [req, from, to] of [
      ['https://a.test/', 'http://secure.test/x?y', 'https://secure.test/x?y'],
      ['https://a.test/', 'http://secure.test', 'https://secure.test'],
      ['https://a.test/', 'http://secure.test.evil/x', 'http://secure.test.evil/x'],
      ['http://a.test/', 'http://secure.test/x', 'http://secure.test/x'],
    ] as const) {
      const res = makeResponse(302, [['Location', from]]);
      m.onResponse!(makeRequest(req), res);
      assert.equal(res.headers.get('location'), to, `${req} ${from}`);
    }
  });
});

describe('headers: deprecated v2 options Traefik v3 still reads', () => {
  it('redirects plain HTTP to https with sslRedirect (301, 307 when temporary), to sslHost when set', () => {
    const m = build('headers', { sslRedirect: true });
    const r = m.onRequest!(makeRequest('http://a.test/x?y=1'));
    assert.equal(r?.status, 301);
    assert.equal(field(r, 'location'), 'https://a.test/x?y=1');
    assert.equal(m.onRequest!(makeRequest('https://a.test/x')), undefined);
    const t = build('headers', { sslRedirect: true, sslTemporaryRedirect: true, sslHost: 'secure.test' });
    const rt = t.onRequest!(makeRequest('http://a.test/x'));
    assert.equal(rt?.status, 307);
    assert.equal(field(rt, 'location'), 'https://secure.test/x');
  });

  it('sends HTTPS requests for another host to sslHost with sslForceHost', () => {
    const m = build('headers', { sslRedirect: true, sslForceHost: true, sslHost: 'secure.test' });
    assert.equal(
      field(m.onRequest!(makeRequest('https://other.test/p')), 'location'),
      'https://secure.test/p',
    );
    assert.equal(m.onRequest!(makeRequest('https://secure.test/p')), undefined);
  });

  it('isDevelopment stops sslRedirect, not sslForceHost, which also works alone (unrolled/secure)', () => {
    const dev = build('headers', { sslRedirect: true, isDevelopment: true });
    assert.equal(dev.onRequest!(makeRequest('http://a.test/')), undefined);
    const force = build('headers', { sslForceHost: true, sslHost: 'secure.test', isDevelopment: true });
    const r = force.onRequest!(makeRequest('http://other.test/p?q'));
    assert.equal(r?.status, 301);
    assert.equal(field(r, 'location'), 'https://secure.test/p?q');
    assert.equal(force.onRequest!(makeRequest('http://secure.test/p')), undefined);
  });

  it('redirects to the host hostsProxyHeaders names, as unrolled/secure resolves it', () => {
    const m = build('headers', { sslRedirect: true, hostsProxyHeaders: ['X-Forwarded-Host'] });
    const req = makeRequest('http://inner.test/p', { headers: [['X-Forwarded-Host', 'outer.test']] });
    assert.equal(field(m.onRequest!(req), 'location'), 'https://outer.test/p');
  });

  it("answers as Go's http.Redirect: an HTML link for GET, no body for other methods", () => {
    const m = build('headers', { sslRedirect: true });
    const get = m.onRequest!(makeRequest('http://a.test/x?a=1&b=2'));
    assert.equal(field(get, 'content-type'), 'text/html; charset=utf-8');
    assert.equal(get?.body, '<a href="https://a.test/x?a=1&amp;b=2">Moved Permanently</a>.\n\n');
    const post = m.onRequest!(makeRequest('http://a.test/x', { method: 'POST' }));
    assert.equal(post?.status, 301);
    assert.equal(post?.body, undefined);
    assert.equal(field(post, 'content-type'), undefined);
  });

  it('sets Feature-Policy from featurePolicy', () => {
    const res = makeResponse(200, []);
    build('headers', { featurePolicy: "camera 'none'" }).onResponse!(makeRequest('http://a.test/'), res);
    assert.equal(res.headers.get('feature-policy'), "camera 'none'");
  });
});
