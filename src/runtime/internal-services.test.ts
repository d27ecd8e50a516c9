import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { dynamicConfigSchema } from '../config/dynamic/schema.ts';
import { defaultEntryPoints } from '../config/static/admin-entry-points.ts';
import { staticConfigSchema } from '../config/static/schema.ts';
import { silentLogger } from '../core/logger.ts';
import type { RequestHead } from '../core/request.ts';
import { Ticker } from '../core/ticker.ts';
import { makeRequest } from '../middleware/test-request.ts';
import { buildSnapshot } from './build-snapshot.ts';
import {
  decodeIdentity,
  INTERNAL_IDENTITY_HEADER,
  type InternalOrigin,
  internalServicesFor,
} from './internal-services.ts';
import { mergeProviders } from './merge-providers.ts';
import { ResourceCache } from './resource-cache.ts';
import type { RuntimeSnapshot } from './types.ts';

const SECRET = 'per-process-secret';
const ticker = new Ticker();
const cache = new ResourceCache(ticker);
after(() => {
  cache.closeAll();
  ticker.stop();
});

/** The API on `web`, shared with the file's routers; ping on the implicit `traefik`. */
function build(dynamic: unknown): RuntimeSnapshot {
  const config = staticConfigSchema.parse({
    entryPoints: { web: { address: ':80' }, websecure: { address: ':443' } },
    api: { entryPoint: 'web' },
    ping: {},
  });
  const internal = internalServicesFor(config, { host: '127.0.0.1', port: 9 }, SECRET);
  assert.ok(internal);
  const merged = mergeProviders(new Map([['file', dynamicConfigSchema.parse(dynamic)]]));
  const r = buildSnapshot(merged, 1, cache, silentLogger, {
    defaultEntryPoints: defaultEntryPoints(config),
    internal,
  });
  assert.deepEqual(
    r.issues.filter((i) => i.severity === 'error'),
    [],
  );
  return r.snapshot;
}

const backend = { loadBalancer: { servers: [{ url: 'http://127.0.0.1:9001' }] } };

/** Which router takes `url` on `entryPoint`, and the identity its chain sets (if any). */
function route(snap: RuntimeSnapshot, entryPoint: string, url: string, clientIp = '198.51.100.7') {
  const req: RequestHead = makeRequest(url, {
    entryPoint,
    clientIp,
    // A client's own try at the header is replaced, not kept beside ours.
    headers: [[INTERNAL_IDENTITY_HEADER, `${SECRET} api router 127.0.0.1`]],
  });
  const target = snap.routes.match(entryPoint, req);
  if (target === undefined) return undefined;
  for (const m of target.middlewares)
    m.onRequest?.(req, { resume: () => {}, onEnd: () => {}, transformBody: () => {} });
  const sent = req.headers.getAll(INTERNAL_IDENTITY_HEADER.toLowerCase());
  const identity = target.service.name.endsWith('@internal')
    ? decodeIdentity(sent.length === 1 ? sent[0] : undefined, SECRET)
    : undefined;
  return { router: target.router, service: target.service.name, identity };
}

describe('internal services', () => {
  it('routes only the API, dashboard and ping paths to them, and every other path of the entry point as usual', () => {
    const snap = build({
      http: {
        routers: { site: { rule: 'PathPrefix(`/`)', service: 'app' } },
        services: { app: backend },
      },
    });
    const on = (ep: string, url: string) => route(snap, ep, url)?.router;
    assert.equal(on('web', 'http://shop.test/api/overview'), 'api@internal');
    assert.equal(on('web', 'http://shop.test/api'), 'api@internal');
    assert.equal(on('web', 'http://shop.test/dashboard/'), 'dashboard@internal');
    assert.equal(on('web', 'http://shop.test/'), 'site@file', '/ stays the site on a shared entry point');
    assert.equal(on('web', 'http://shop.test/apiary'), 'site@file');
    assert.equal(on('web', 'http://shop.test/shop/cart'), 'site@file');
    assert.equal(on('web', 'http://shop.test/ping'), 'site@file', 'ping is on traefik, not web');
    assert.equal(on('websecure', 'http://shop.test/api/overview'), 'site@file');
    // `traefik` (implicit here) is not a default entry point: the site is not there.
    assert.equal(on('traefik', 'http://127.0.0.1/ping'), 'ping@internal');
    assert.equal(on('traefik', 'http://127.0.0.1/shop'), undefined);
  });

  it("tells the admin server the client's address and that the proxy's own router took the request", () => {
    const snap = build({ http: {} });
    const r = route(snap, 'web', 'http://shop.test/api/overview', '198.51.100.7');
    assert.deepEqual(r?.identity, {
      service: 'api',
      clientIp: '198.51.100.7',
      via: 'entryPoint',
      hostPinned: false,
    } satisfies InternalOrigin);
  });

  it('lets a router of the configuration name api@internal, its identity set after its own middlewares', () => {
    const snap = build({
      http: {
        routers: {
          admin: {
            rule: 'Host(`admin.test`)',
            service: 'api@internal',
            entryPoints: ['websecure'],
            middlewares: ['spoof'],
          },
          open: { rule: 'PathPrefix(`/`)', service: 'dashboard@internal', entryPoints: ['websecure'] },
        },
        middlewares: {
          // A middleware cannot set the identity: the internal one overwrites it.
          spoof: {
            headers: {
              customRequestHeaders: { [INTERNAL_IDENTITY_HEADER]: `${SECRET} api router 127.0.0.1` },
            },
          },
        },
      },
    });
    const pinned = route(snap, 'websecure', 'http://admin.test/api/overview');
    assert.equal(pinned?.router, 'admin@file');
    assert.equal(pinned?.service, 'api@internal');
    assert.deepEqual(pinned?.identity, {
      service: 'api',
      clientIp: '198.51.100.7',
      via: 'router',
      hostPinned: true,
    });
    const open = route(snap, 'websecure', 'http://other.test/dashboard/');
    assert.equal(open?.service, 'dashboard@internal');
    assert.equal(open?.identity?.hostPinned, false, 'a rule without Host pins nothing');
  });

  it('warns about a router that asks for a path the API answers first on its entry point', () => {
    const config = staticConfigSchema.parse({
      entryPoints: { web: { address: ':80' }, websecure: { address: ':443' } },
      api: { entryPoint: 'web' },
    });
    const internal = internalServicesFor(config, { host: '127.0.0.1', port: 9 }, SECRET);
    assert.ok(internal);
    const http = dynamicConfigSchema.parse({
      http: {
        routers: {
          v1: { rule: 'PathPrefix(`/api/v1`)', service: 'app' },
          secure: { rule: 'PathPrefix(`/api`)', service: 'app', entryPoints: ['websecure'] },
          apiary: { rule: 'PathPrefix(`/apiary`)', service: 'app' },
          all: { rule: 'PathPrefix(`/`)', service: 'app' },
        },
        services: { app: backend },
      },
    });
    assert.deepEqual(
      internal.shadowedRouters(http, defaultEntryPoints(config)).map((i) => [i.path.join('.'), i.severity]),
      [['http.routers.v1.rule', 'warning']],
    );
  });

  it('decodes only identities signed with the secret', () => {
    assert.deepEqual(decodeIdentity(`${SECRET} prometheus entrypoint ::1`, SECRET), {
      service: 'prometheus',
      clientIp: '::1',
      via: 'entryPoint',
      hostPinned: false,
    });
    for (const bad of [
      undefined,
      '',
      `${SECRET}x api router 127.0.0.1`,
      `wrong api router 127.0.0.1`,
      `${SECRET} shell router 127.0.0.1`,
      `${SECRET} api sideways 127.0.0.1`,
      `${SECRET} api router 127.0.0.1 extra`,
      `${SECRET} api router 127.0.0.1, ${SECRET} api router 127.0.0.1`,
    ]) {
      assert.equal(decodeIdentity(bad, SECRET), undefined, String(bad));
    }
  });
});
