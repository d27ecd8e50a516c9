import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type RequestSpec, request } from '../request-fixture.ts';
import { HttpRouter, type RouteEntry } from './http-router.ts';

function route(name: string, rule: string, extra: Partial<RouteEntry<string>> = {}): RouteEntry<string> {
  return { name, rule, entryPoints: [], value: name, ...extra };
}

function router(routes: RouteEntry<string>[]): HttpRouter<string> {
  const { router, errors } = HttpRouter.build(routes);
  assert.deepEqual(errors, []);
  return router;
}

function match(r: HttpRouter<string>, spec: RequestSpec, ep = 'web'): string | undefined {
  return r.match(ep, request(spec));
}

describe('HttpRouter priority', () => {
  it('prefers the longer rule by default', () => {
    const r = router([route('short', 'PathPrefix(`/`)'), route('long', 'PathPrefix(`/api`)')]);
    assert.equal(match(r, { path: '/api/x' }), 'long');
    assert.equal(match(r, { path: '/other' }), 'short');
  });

  it('lets an explicit priority override the rule length', () => {
    const r = router([
      route('catchall', 'PathPrefix(`/`)', { priority: 1000 }),
      route('api', 'Host(`example.com`) && PathPrefix(`/api`)'),
    ]);
    assert.equal(match(r, { path: '/api' }), 'catchall');
  });

  it('treats priority 0 as the default and allows negative priorities', () => {
    const r = router([
      route('zero', 'PathPrefix(`/a`)', { priority: 0 }),
      route('neg', 'PathPrefix(`/abcdef`)', { priority: -1 }),
    ]);
    assert.equal(match(r, { path: '/abcdef' }), 'zero');
  });

  it('breaks ties by name, then by input order', () => {
    const r = router([
      route('b', 'Path(`/x`)', { priority: 9 }),
      route('a', 'Path(`/x`)', { priority: 9, value: 'a-first' }),
      route('a', 'Path(`/x`)', { priority: 9, value: 'a-second' }),
      route('c', 'Path(`/x`)', { priority: 9 }),
    ]);
    assert.equal(match(r, { path: '/x' }), 'a-first');
  });

  it('breaks a tie by the provider order of providers.precedence before the name (Traefik v3.7)', () => {
    const routes = [
      route('a@rest', 'Host(`same.example`)'),
      route('z@file', 'Host(`same.example`)'),
      route('m@internal', 'Host(`same.example`)'),
      route('b@nomad-ns', 'Host(`same.example`)'),
      route('p@rest', 'PathPrefix(`/longer-rule`)'),
    ];
    const build = (precedence?: readonly string[]) => HttpRouter.build(routes, undefined, precedence).router;
    const spec = { host: 'same.example', path: '/' };
    // Without a precedence: the name alone.
    assert.equal(match(build(), spec), 'a@rest');
    assert.equal(match(build(['docker', 'file', 'nomad', 'rest']), spec), 'z@file');
    assert.equal(match(build(['rest', 'file']), spec), 'a@rest');
    // Unlisted providers (`internal`, `nomad-<namespace>`: not `nomad`) come last, by name.
    assert.equal(match(build(['docker']), spec), 'a@rest');
    assert.equal(match(build(['nomad']), spec), 'a@rest');
    // The priority still decides first.
    assert.equal(match(build(['file', 'rest']), { host: 'same.example', path: '/longer-rule' }), 'p@rest');
  });

  it('lets a host-less route outrank a host route', () => {
    const r = router([
      route('host', 'Host(`example.com`)'),
      route('header', 'Header(`X-Canary`, `always`) && PathPrefix(`/`)'),
    ]);
    assert.equal(match(r, { headers: [['X-Canary', 'always']] }), 'header');
    assert.equal(match(r, {}), 'host');
  });

  it('falls through a higher-priority host route that does not match', () => {
    const r = router([
      route('host', 'Host(`example.com`) && PathPrefix(`/longer-prefix`)'),
      route('tenant', 'Header(`X-Tenant`, `t1`)'),
    ]);
    assert.equal(match(r, { path: '/longer-prefix' }), 'host');
    assert.equal(match(r, { path: '/', headers: [['X-Tenant', 't1']] }), 'tenant');
  });

  it('orders wildcard and exact hosts by priority, not by specificity', () => {
    const r = router([
      route('exact', 'Host(`api.example.com`)'),
      route('wild', 'Host(`*.example.com`) && PathPrefix(`/v2`)'),
    ]);
    assert.equal(match(r, { host: 'api.example.com', path: '/v2' }), 'wild');
    assert.equal(match(r, { host: 'api.example.com', path: '/v1' }), 'exact');
    assert.equal(match(r, { host: 'web.example.com', path: '/v2' }), 'wild');
    assert.equal(match(r, { host: 'web.example.com', path: '/v1' }), undefined);
  });

  it('matches nothing when no rule matches', () => {
    const r = router([route('a', 'Host(`a.com`)')]);
    assert.equal(match(r, { host: 'b.com' }), undefined);
    assert.equal(match(router([]), {}), undefined);
  });
});

describe('HttpRouter entry points', () => {
  const r = router([
    route('web-only', 'PathPrefix(`/`)', { entryPoints: ['web'], priority: 3 }),
    route('secure-only', 'PathPrefix(`/`)', { entryPoints: ['websecure'], priority: 2 }),
    route('everywhere', 'PathPrefix(`/`)', { priority: 1 }),
  ]);

  it('only considers routes on the request entry point', () => {
    assert.equal(match(r, {}, 'web'), 'web-only');
    assert.equal(match(r, {}, 'websecure'), 'secure-only');
  });

  it('applies routes without entry points everywhere, even on unnamed entry points', () => {
    assert.equal(match(r, {}, 'admin'), 'everywhere');
  });
});

describe('HttpRouter build errors', () => {
  it('returns failing rules by name and serves the others', () => {
    const { router: r, errors } = HttpRouter.build([
      route('bad', 'Host(`a.com`'),
      route('good', 'Host(`a.com`)'),
      route('bad-ip', 'ClientIP(`300.0.0.1`)'),
    ]);
    assert.deepEqual(
      errors.map((e) => [e.name, e.error.offset]),
      [
        ['bad', 4],
        ['bad-ip', 9],
      ],
    );
    assert.equal(match(r, { host: 'a.com' }), 'good');
  });
});

describe('HttpRouter index', () => {
  it('finds a route listed under an exact host and a wildcard once', () => {
    const r = router([route('both', 'Host(`x.a.com`) || Host(`*.a.com`)'), route('other', 'Path(`/`)')]);
    assert.equal(match(r, { host: 'x.a.com' }), 'both');
    assert.equal(match(r, { host: 'y.a.com' }), 'both');
    assert.deepEqual(
      r.explain('web', request({ host: 'x.a.com' })).map((e) => e.name),
      ['both', 'other'],
    );
  });

  it('specializes wildcard lists without deciding other hosts under the same parent', () => {
    const r = router([
      route('not-admin', 'Host(`*.a.com`) && !Host(`admin.a.com`)'),
      route('not-b', 'Host(`*.a.com`) && !Host(`*.b.com`) && Path(`/nb`)'),
      route('any', 'Host(`*`) && Path(`/any`)'),
    ]);
    assert.equal(match(r, { host: 'www.a.com' }), 'not-admin');
    assert.equal(match(r, { host: 'admin.a.com' }), undefined);
    assert.equal(match(r, { host: 'admin.a.com', path: '/nb' }), 'not-b');
    assert.equal(match(r, { host: 'admin.a.com', path: '/any' }), 'any');
  });

  it('finds path-indexed routes by the decoded routing path', () => {
    const r = router([route('space', 'PathPrefix(`/foo bar`)')]);
    assert.equal(match(r, { path: '/foo%20bar/x' }), 'space');
    assert.equal(match(r, { path: '/foo' }), undefined);
  });

  it('finds header-indexed routes for any of several values the request carries', () => {
    const r = router([
      route('t1', 'Header(`X-T`, `1`) || Header(`X-T`, `2`)'),
      route('t3', 'Header(`X-T`, `3`)'),
    ]);
    const req = { headers: [['x-t', '2'] as [string, string], ['X-T', '1'] as [string, string]] };
    assert.equal(match(r, req), 't1');
    assert.equal(match(r, { headers: [['X-T', '3']] }), 't3');
    assert.deepEqual(
      r.explain('web', request(req)).map((e) => [e.name, e.matched]),
      [
        ['t1', true],
        ['t3', false],
      ],
    );
  });

  it('keeps matching correctly when one router serves many requests in turn', () => {
    const r = router([
      route('a', 'Host(`a.com`) && PathPrefix(`/p`)'),
      route('h', 'Header(`X`, `1`) && Path(`/p`)'),
    ]);
    for (let i = 0; i < 3; i++) {
      assert.equal(match(r, { host: 'a.com', path: '/p/x' }), 'a');
      assert.equal(match(r, { host: 'b.com', path: '/p', headers: [['X', '1']] }), 'h');
      assert.equal(match(r, { host: 'b.com', path: '/q' }), undefined);
    }
  });
});

describe('HttpRouter explain', () => {
  it('lists every route of the entry point in evaluation order with its priority and outcome', () => {
    const r = router([
      route('catchall', 'PathPrefix(`/`)'),
      route('api', 'Host(`example.com`) && PathPrefix(`/api`)'),
      route('elsewhere', 'Host(`other.com`)'),
      route('admin', 'Path(`/admin`)', { priority: 100 }),
    ]);
    assert.deepEqual(r.explain('web', request({ path: '/api/x' })), [
      { name: 'admin', priority: 100, matched: false },
      { name: 'api', priority: 41, matched: true },
      { name: 'elsewhere', priority: 17, matched: false },
      { name: 'catchall', priority: 15, matched: true },
    ]);
    assert.equal(match(r, { path: '/api/x' }), 'api');
  });
});

describe('HttpRouter with CNAME flattening (static hostResolver.cnameFlattening)', () => {
  function flat(host: string, flatHost: string | undefined): ReturnType<typeof request> {
    const req = request({ host, path: '/api/x' });
    if (flatHost !== undefined) req.flatHost = flatHost;
    return req;
  }

  it("matches Host by the request's host or by its flattened name, as Traefik's host matcher", () => {
    const { router: r, errors } = HttpRouter.build(
      [
        route('target', 'Host(`target.example.net`) && PathPrefix(`/api`)'),
        route('wild', 'Host(`*.wild.example`)'),
        route('re', 'HostRegexp(`^target\\.example\\.net$`)', { priority: 1 }),
        route('other', 'Host(`other.example`)'),
      ],
      undefined,
      undefined,
      true,
    );
    assert.deepEqual(errors, []);
    assert.equal(r.match('web', flat('alias.example.com', 'target.example.net')), 'target');
    assert.equal(r.match('web', flat('target.example.net', 'target.example.net')), 'target');
    assert.equal(r.match('web', flat('other.example', 'somewhere.else')), 'other');
    assert.equal(r.match('web', flat('a.example', 'x.wild.example')), 'wild');
    // HostRegexp never reads the flattened name (Traefik's hostRegexp has no CNAME branch).
    const noPath = request({ host: 'alias.example.com', path: '/' });
    noPath.flatHost = 'target.example.net';
    assert.equal(r.match('web', noPath), undefined);
  });

  it('leaves the flattened name unread without the option', () => {
    const r = router([route('target', 'Host(`target.example.net`)')]);
    assert.equal(r.match('web', flat('alias.example.com', 'target.example.net')), undefined);
  });
});
