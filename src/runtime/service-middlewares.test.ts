import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { dynamicConfigSchema } from '../config/dynamic/schema.ts';
import { silentLogger } from '../core/logger.ts';
import { Ticker } from '../core/ticker.ts';
import { makeRequest } from '../middleware/test-request.ts';
import { buildSnapshot } from './build-snapshot.ts';
import { mergeProviders } from './merge-providers.ts';
import { ResourceCache } from './resource-cache.ts';
import { LoadBalancerNode, type MirroringServiceNode, ServiceMiddlewareNode } from './service-nodes.ts';
import type { ResolveSink, ServiceStep } from './types.ts';

const ticker = new Ticker();
const cache = new ResourceCache(ticker);
after(() => {
  cache.closeAll();
  ticker.stop();
});

function build(http: unknown) {
  const merged = mergeProviders(new Map([['file', dynamicConfigSchema.parse({ http })]]));
  const r = buildSnapshot(merged, 1, cache, silentLogger, { defaultEntryPoints: ['web'] });
  return {
    snapshot: r.snapshot,
    errors: r.issues.filter((i) => i.severity === 'error').map((i) => `${i.path.join('.')}: ${i.message}`),
  };
}

const lb = (port: number) => ({ loadBalancer: { servers: [{ url: `http://127.0.0.1:${port}` }] } });
const mark = { headers: { customRequestHeaders: { X: '1' } } };

class Sink implements ResolveSink {
  serviceStep: ServiceStep | null = null;
  addSetCookie(): void {}
  mirrorThrough(): void {}
  failoverThrough(): void {}
  serviceMiddlewares(step: ServiceStep): void {
    this.serviceStep = step;
  }
}

describe('service middlewares in the snapshot (Traefik v3.7)', () => {
  it('stops resolving at a service with middlewares, and makes one target per route past it', () => {
    const { snapshot, errors } = build({
      routers: { r: { rule: 'PathPrefix(`/`)', service: 's', middlewares: ['m'] } },
      services: { s: { middlewares: ['m'], ...lb(9001) } },
      middlewares: { m: mark },
    });
    assert.deepEqual(errors, []);
    // The API and the metrics see the service's load balancer.
    assert.ok(snapshot.services.get('s@file') instanceof LoadBalancerNode);
    const route = snapshot.routes.match('web', makeRequest('http://a.test/', { entryPoint: 'web' }))!;
    assert.ok(route.service instanceof ServiceMiddlewareNode);
    const sink = new Sink();
    assert.equal(route.service.resolve(makeRequest('http://a.test/'), sink), undefined);
    const step = sink.serviceStep!;
    const after1 = step.targetAfter(route);
    assert.equal(step.targetAfter(route), after1);
    assert.equal(after1.middlewares.length, route.middlewares.length + 1);
    assert.equal(after1.afterServiceMiddlewares, true);
    assert.equal(after1.service.name, 's@file');
    const below = new Sink();
    assert.ok(after1.service.resolve(makeRequest('http://a.test/'), below) instanceof LoadBalancerNode);
    assert.equal(below.serviceStep, null);
  });

  it("builds an error page's, a mirror's and a failover fallback's service with middlewares; refuses on a page what acts around its tries or on its body", () => {
    const { errors } = build({
      routers: {
        m: { rule: 'Path(`/m`)', service: 'mirror' },
        e: { rule: 'Path(`/e`)', service: 'plain', middlewares: ['pages'] },
        z: { rule: 'Path(`/z`)', service: 'plain', middlewares: ['zipped-pages'] },
        f: { rule: 'Path(`/f`)', service: 'fo' },
      },
      services: {
        plain: lb(9001),
        guarded: { middlewares: ['mw'], ...lb(9002) },
        zipped: { middlewares: ['zip'], ...lb(9003) },
        mirror: { mirroring: { service: 'plain', mirrors: [{ name: 'guarded', percent: 10 }] } },
        fo: { failover: { service: 'plain', fallback: 'guarded', errors: { status: ['500'] } } },
      },
      middlewares: {
        mw: mark,
        zip: { compress: {} },
        pages: { errors: { status: ['500'], service: 'guarded', query: '/' } },
        'zipped-pages': { errors: { status: ['500'], service: 'zipped', query: '/' } },
      },
    });
    assert.deepEqual(errors, [
      "http.middlewares.zipped-pages@file: middleware zip@file: a response body phase on an error page's service (Traefik v3.7 service middlewares) is not supported yet",
    ]);
  });

  it("builds a mirror's middlewares (its entry's, then its service's) and refuses those that act around a copy's tries", () => {
    const { snapshot, errors } = build({
      routers: {
        m: { rule: 'Path(`/m`)', service: 'mirror' },
        n: { rule: 'Path(`/n`)', service: 'retried' },
      },
      services: {
        plain: lb(9001),
        guarded: { middlewares: ['mw'], ...lb(9002) },
        mirror: {
          mirroring: {
            service: 'plain',
            mirrors: [
              { name: 'guarded', percent: 10, middlewares: ['mw'] },
              { name: 'plain', percent: 10, middlewares: ['mw'] },
            ],
          },
        },
        retried: {
          mirroring: { service: 'plain', mirrors: [{ name: 'plain', percent: 5, middlewares: ['again'] }] },
        },
      },
      middlewares: { mw: mark, again: { retry: { attempts: 2 } } },
    });
    assert.deepEqual(errors, [
      "http.services.retried@file.mirroring.mirrors.0.name: middleware again@file: a retry on a mirror's copies (Traefik v3.7 service middlewares) is not supported yet",
    ]);
    const mirrors = (snapshot.services.get('mirror@file') as MirroringServiceNode).mirrors;
    assert.deepEqual(
      mirrors.map((m) => [m.name, m.stepped, m.node instanceof ServiceMiddlewareNode]),
      [
        ['guarded@file', true, true],
        ['plain@file', true, true],
      ],
    );
  });

  it('reports a service middleware that cannot be built at its place in the service', () => {
    const { errors } = build({
      routers: { r: { rule: 'PathPrefix(`/`)', service: 'w' } },
      services: {
        w: { weighted: { services: [{ name: 'plain', middlewares: ['nope'] }] } },
        plain: lb(9001),
      },
      middlewares: {},
    });
    assert.deepEqual(errors, [
      'http.services.w@file.weighted.services.0.middlewares.0: unknown middleware nope@file',
    ]);
  });
});
