import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorsSchema } from '../config/dynamic/body-middlewares.ts';
import { errorPageTarget, errorsFactory, goQueryEscape, rewrittenStatus } from './errors.ts';
import type { ErrorPageSpec, Middleware } from './middleware.ts';
import { build, makeRequest, testContext } from './test-request.ts';

function spec(input: Record<string, unknown>): ErrorPageSpec {
  const m = errorsFactory.create(ErrorsSchema.parse(input), testContext({}, 'e@file')) as Middleware;
  return m.errorPage!;
}

describe('errors middleware', () => {
  it('reads Traefik keys: status list or ranges, statusRewrites, service qualified in its provider', () => {
    const s = spec({
      status: ['500-599', '404'],
      statusRewrites: { '418': 404, '502-504': '500' },
      service: 'pages',
      query: '{status}.html',
    });
    assert.deepEqual(s.status, [
      { from: 500, to: 599 },
      { from: 404, to: 404 },
    ]);
    assert.equal(s.service, 'pages@file');
    assert.equal(s.query, '/{status}.html', 'a leading slash is added, as Traefik does');
    assert.equal(rewrittenStatus(s, 418), 404);
    assert.equal(rewrittenStatus(s, 503), 500);
    assert.equal(rewrittenStatus(s, 501), 501);
    assert.equal(s.forward, null, 'no errorRequestHeaders: every field goes to the page');
    assert.deepEqual(spec({ service: 'p', errorRequestHeaders: ['X-Trace', ' Accept '] }).forward, [
      'x-trace',
      'accept',
    ]);
    assert.deepEqual(spec({ service: 'p', errorRequestHeaders: [] }).forward, []);
  });

  it('refuses what Traefik refuses, and an unknown service', () => {
    assert.equal(ErrorsSchema.safeParse({ status: ['5x'], service: 's' }).success, false);
    assert.equal(ErrorsSchema.safeParse({ status: ['500'] }).success, false);
    assert.equal(ErrorsSchema.safeParse({ service: 's', statusRewrites: { abc: 500 } }).success, false);
    assert.equal(ErrorsSchema.safeParse({ service: 's', statusRewrites: { '500': 'x' } }).success, false);
    const r = errorsFactory.create(ErrorsSchema.parse({ service: 'x-missing' }), testContext());
    assert.deepEqual(r, { error: 'unknown service x-missing' });
  });

  it('fills {status}, {originalStatus} and {url} (escaped as Go url.QueryEscape)', () => {
    const s = spec({ service: 'p', query: '/e?s={status}&o={originalStatus}&u={url}' });
    const req = makeRequest('http://app.test/a b/é?x=1&y=~z');
    assert.equal(
      errorPageTarget(s, req, 500, 503),
      '/e?s=500&o=503&u=http%3A%2F%2Fapp.test%2Fa+b%2F%C3%A9%3Fx%3D1%26y%3D~z',
    );
    assert.equal(goQueryEscape('AZaz09-._~ /?'), 'AZaz09-._~+%2F%3F');
    assert.equal(errorPageTarget(spec({ service: 'p' }), req, 404, 404), '/');
  });

  it('gives {url} an empty path once a stripPrefix took all of it (Go URL.String() of "")', () => {
    const s = spec({ service: 'p', query: '/e?u={url}' });
    const req = makeRequest('http://app.test/api?x=1');
    build('stripPrefix', { prefixes: ['/api'] }).onRequest!(req);
    assert.equal(req.path, '/', 'sent upstream as /');
    assert.equal(errorPageTarget(s, req, 500, 500), '/e?u=http%3A%2F%2Fapp.test%3Fx%3D1');
    const bare = makeRequest('http://app.test/api');
    build('stripPrefix', { prefixes: ['/api'] }).onRequest!(bare);
    assert.equal(errorPageTarget(s, bare, 500, 500), '/e?u=http%3A%2F%2Fapp.test');
  });

  it("gives {url} the scheme of X-Forwarded-Proto, else the connection's, and the client's Host (Traefik v3.7.13)", () => {
    const s = spec({ service: 'p', query: '/e?u={url}' });
    const behind = makeRequest('http://App.test:8080/x', { headers: [['X-Forwarded-Proto', 'https']] });
    assert.equal(errorPageTarget(s, behind, 500, 500), '/e?u=https%3A%2F%2FApp.test%3A8080%2Fx');
    const tls = makeRequest('https://app.test/x');
    assert.equal(errorPageTarget(s, tls, 500, 500), '/e?u=https%3A%2F%2Fapp.test%2Fx');
  });
});
