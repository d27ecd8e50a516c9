import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadStaticConfig } from '../config/static/load.ts';
import { internalObjects } from './internal-views.ts';

/** Traefik's internal provider (pkg/provider/traefik/internal.go) for a static configuration. */
function objects(text: string) {
  const r = loadStaticConfig({ file: 'conf/static.yaml', readFile: () => text, argv: [], env: {} });
  assert.ok(r.config !== undefined, JSON.stringify(r.issues));
  return internalObjects(r.config);
}
const MAX = 9_223_372_036_854_775_807n;

describe('internal objects (Traefik internal.go createConfiguration)', () => {
  it('only noop@internal without api, ping, metrics, rest nor redirections', () => {
    const o = objects('entryPoints:\n  web:\n    address: ":80"\n');
    assert.deepEqual(o, { routers: [], services: ['noop@internal'], middlewares: [] });
  });

  it('api without insecure: its services, no router (apiConfiguration)', () => {
    const o = objects('entryPoints:\n  web:\n    address: ":80"\napi: {}\n');
    assert.deepEqual(o.routers, []);
    assert.deepEqual(o.services, ['api@internal', 'dashboard@internal', 'noop@internal']);
    assert.deepEqual(o.middlewares, []);
    const nd = objects('entryPoints:\n  web:\n    address: ":80"\napi: { dashboard: false }\n');
    assert.deepEqual(nd.services, ['api@internal', 'noop@internal']);
  });

  it('api.insecure and debug: api, dashboard and debug routers, the dashboard middlewares', () => {
    const o = objects('entryPoints:\n  web:\n    address: ":80"\napi: { insecure: true, debug: true }\n');
    assert.deepEqual(
      o.routers.map((r) => [r.name, r.rule, r.priority, r.entryPoints, r.middlewares, r.service]),
      [
        ['api@internal', 'PathPrefix(`/api`)', MAX - 1n, ['traefik'], [], 'api@internal'],
        [
          'dashboard@internal',
          'PathPrefix(`/`)',
          MAX - 2n,
          ['traefik'],
          ['dashboard_redirect@internal', 'dashboard_stripprefix@internal'],
          'dashboard@internal',
        ],
        ['debug@internal', 'PathPrefix(`/debug`)', MAX - 1n, ['traefik'], [], 'api@internal'],
      ],
    );
    assert.ok(o.routers.every((r) => r.ruleSyntax === 'default'));
    assert.deepEqual(o.middlewares, [
      {
        name: 'dashboard_redirect@internal',
        type: 'redirectRegex',
        config: {
          regex: String.raw`^(http:\/\/(\[[\w:.]+\]|[\w\._-]+)(:\d+)?)\/$`,
          replacement: '$' + '{1}/dashboard/',
          permanent: true,
        },
      },
      {
        name: 'dashboard_stripprefix@internal',
        type: 'stripPrefix',
        config: { prefixes: ['/dashboard/', '/dashboard'] },
      },
    ]);
  });

  it('ping, prometheus and rest: their routers unless manualRouting (rest: with insecure)', () => {
    const on = objects(
      'entryPoints:\n  web:\n    address: ":80"\nping: { entryPoint: web }\nmetrics: { prometheus: {} }\nproviders: { rest: { insecure: true } }\n',
    );
    assert.deepEqual(
      on.routers.map((r) => [r.name, r.rule, r.priority, r.entryPoints]),
      [
        ['ping@internal', 'PathPrefix(`/ping`)', MAX, ['web']],
        ['prometheus@internal', 'PathPrefix(`/metrics`)', MAX, ['traefik']],
        ['rest@internal', 'PathPrefix(`/api/providers`)', MAX, ['traefik']],
      ],
    );
    assert.deepEqual(on.services, ['noop@internal', 'ping@internal', 'prometheus@internal', 'rest@internal']);
    const off = objects(
      'entryPoints:\n  web:\n    address: ":80"\nping: { manualRouting: true }\nmetrics: { prometheus: { manualRouting: true } }\nproviders: { rest: {} }\n',
    );
    assert.deepEqual(off.routers, []);
    assert.deepEqual(off.services, on.services);
  });

  it('an entry point redirection: `<ep>-to-<to>` and `redirect-<ep>-to-<to>` (Normalize, getRedirectPort)', () => {
    const o = objects(
      'entryPoints:\n  web:\n    address: ":80"\n    http: { redirections: { entryPoint: { to: websecure } } }\n  websecure:\n    address: ":443"\n  alt:\n    address: ":81"\n    http: { redirections: { entryPoint: { to: ":8443", scheme: http, permanent: false, priority: 10 } } }\n',
    );
    assert.deepEqual(o.routers, [
      {
        name: 'alt-to-8443@internal',
        rule: 'HostRegexp(`^.+$`)',
        ruleSyntax: 'default',
        priority: 10,
        entryPoints: ['alt'],
        middlewares: ['redirect-alt-to-8443@internal'],
        service: 'noop@internal',
      },
      {
        name: 'web-to-websecure@internal',
        rule: 'HostRegexp(`^.+$`)',
        ruleSyntax: 'default',
        priority: MAX - 1n,
        entryPoints: ['web'],
        middlewares: ['redirect-web-to-websecure@internal'],
        service: 'noop@internal',
      },
    ]);
    assert.deepEqual(o.middlewares, [
      {
        name: 'redirect-alt-to-8443@internal',
        type: 'redirectScheme',
        config: { scheme: 'http', port: '8443' },
      },
      {
        name: 'redirect-web-to-websecure@internal',
        type: 'redirectScheme',
        config: { scheme: 'https', port: '443', permanent: true },
      },
    ]);
  });

  it('ACME httpChallenge entry points: acme-http, and acme-http-bypass with allowACMEByPass (acme())', () => {
    const resolver = (name: string, ep: string) =>
      `  ${name}:\n    acme:\n      email: a@example.com\n      storage: /tmp/x.json\n      httpChallenge: { entryPoint: ${ep} }\n`;
    const o = objects(
      `entryPoints:\n  web:\n    address: ":80"\n  other:\n    address: ":81"\n    allowACMEByPass: true\ncertificatesResolvers:\n${resolver('a', 'web')}${resolver('b', 'web')}${resolver('c', 'other')}`,
    );
    assert.deepEqual(
      o.routers.map((r) => [r.name, r.ruleSyntax, r.priority, r.entryPoints, r.service]),
      [
        [
          'acme-http-bypass@internal',
          undefined,
          'PathPrefix(`/.well-known/acme-challenge/`)'.length,
          ['other'],
          'acme-http@internal',
        ],
        ['acme-http@internal', 'default', MAX, ['web'], 'acme-http@internal'],
      ],
    );
    assert.deepEqual(o.services, ['acme-http@internal', 'noop@internal']);
  });
});
