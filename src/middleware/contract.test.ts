import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { plugin as bodyRewrite } from '../../examples/plugins/body-rewrite/index.ts';
import type { Plugin } from '../../types/plugin.d.ts';
import { type MiddlewareType, middlewareSchemas } from '../config/dynamic/middlewares.ts';
import { pluginMiddlewares } from '../plugins/factory.ts';
import type { BodyOutput, Middleware, MiddlewareFactory } from './middleware.ts';
import { middlewareFactory, middlewareTypes } from './registry.ts';
import { makeRequest, makeResponse, testContext } from './test-request.ts';

/*
 * The contract every middleware keeps, run over the whole registry: a new middleware type is
 * one file, its registry entry, and its row here (the suite fails for a type without one). A
 * middleware built from a valid configuration has something to do (a phase or a setting the
 * exchange applies), survives a plain request through every phase it has, and its body filter,
 * if any, follows the BodyFilter protocol: started once, bytes in, end → out.end(), destroy at
 * any point without throwing and without output afterwards.
 */

/** A minimal valid configuration of each type (Traefik's keys), chosen to exercise its phases. */
const EXAMPLES: Readonly<Record<MiddlewareType, unknown>> = {
  headers: { customRequestHeaders: { 'X-A': '1' }, customResponseHeaders: { 'X-B': '2' } },
  stripPrefix: { prefixes: ['/api'] },
  stripPrefixRegex: { regex: ['^/v[0-9]+'] },
  addPrefix: { prefix: '/app' },
  replacePath: { path: '/x' },
  replacePathRegex: { regex: '^/a/(.*)', replacement: '/b/$1' },
  redirectScheme: { scheme: 'https' },
  redirectRegex: { regex: '^http://app.test/(.*)', replacement: 'https://app.test/$1' },
  chain: { middlewares: ['known'] },
  circuitBreaker: { expression: 'NetworkErrorRatio() > 0.5' },
  retry: { attempts: 2 },
  rateLimit: { average: 100 },
  inFlightReq: { amount: 10 },
  passTLSClientCert: { pem: true },
  buffering: { maxRequestBodyBytes: 1000 },
  compress: {},
  errors: { status: ['500-599'], service: 'pages' },
  grpcWeb: { allowOrigins: ['*'] },
  ipAllowList: { sourceRange: ['0.0.0.0/0', '::/0'] },
  ipWhiteList: { sourceRange: ['0.0.0.0/0', '::/0'] },
  encodedCharacters: {},
  basicAuth: { users: ['user:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ='] },
  digestAuth: { users: ['user:traefik:0d4f9b3d4c4d1e0f2a9b8c7d6e5f4a3b'] },
  forwardAuth: { address: 'http://127.0.0.1:9/verify', timeout: '1s' },
  jwt: { signingSecret: 'a-secret-of-32-bytes-or-more-xxxx' },
  contentType: {},
  // The body-rewrite example plugin (examples/plugins), through the plugin guard.
  plugin: { rewrite: { rules: [{ from: 'ab', to: 'AB' }] } },
  requestHeaderModifier: { set: { 'X-A': '1' }, add: { 'X-B': '2' }, remove: ['X-C'] },
  responseHeaderModifier: { set: { 'X-A': '1' }, remove: ['Server'] },
  requestRedirect: { scheme: 'https', statusCode: 301 },
  urlRewrite: { path: '/new', pathPrefix: '/old' },
  snippet: { configurationSnippet: 'more_set_headers "X-A: 1";' },
  rewriteTarget: { regex: '(?i)/a(/|$)(.*)', replacement: '/$2' },
  upstreamVhost: { vhost: '$host.internal' },
  authTLSPassCertificateToUpstream: { clientAuthType: 'RequireAndVerifyClientCert' },
};

/** The local plugins the `plugin` row builds from, as main.ts hands them to a build. */
const PLUGINS = pluginMiddlewares({
  names: ['rewrite'],
  get: (n) =>
    n === 'rewrite'
      ? {
          name: n,
          file: 'examples/plugins/body-rewrite/index.ts',
          version: '1',
          plugin: bodyRewrite as Plugin<unknown>,
        }
      : undefined,
});

const NOOP_OUT: BodyOutput = { push: () => true, length() {}, end() {}, fail() {}, drained() {} };

function build(type: MiddlewareType): Middleware {
  const config = middlewareSchemas[type].parse(EXAMPLES[type]);
  const factory = middlewareFactory(type) as MiddlewareFactory<unknown>;
  const known: Middleware = { onRequest: () => undefined };
  const m = factory.create(config, { ...testContext({ known }), plugins: PLUGINS });
  assert.ok(!('error' in m && typeof m.error === 'string'), `${type}: ${JSON.stringify(m)}`);
  return m as Middleware;
}

describe('middleware contract', () => {
  it('has an example for every registered type', () => {
    assert.deepEqual(Object.keys(EXAMPLES).sort(), [...middlewareTypes].sort());
  });

  for (const type of middlewareTypes) {
    it(`${type}: has work to do, and takes a plain request through each of its phases`, async () => {
      const m = build(type);
      const phases = [
        m.onRequest,
        m.onResponse,
        m.onResponseBody,
        m.retry,
        m.guard,
        m.errorPage,
        m.buffering,
      ].filter((x) => x !== undefined);
      // A chain is flattened into its members by the runtime; the factory returns the chain itself.
      if (type !== 'chain') assert.ok(phases.length > 0, `${type} does nothing`);
      const req = makeRequest('http://app.test/api/v1/x?y=1', {
        headers: [
          ['Accept-Encoding', 'gzip'],
          ['Content-Type', 'text/plain'],
        ],
      });
      const ctl = { resume() {}, onEnd() {} };
      m.onRequest?.(req, ctl as never);
      const res = makeResponse(200, [
        ['Content-Type', 'text/plain'],
        ['Content-Length', '5000'],
      ]);
      m.onResponse?.(req, res);
      const filter = m.onResponseBody?.(req, res) ?? null;
      if (filter === null) return;
      // The protocol: bytes in, end → out.end() once, nothing after.
      let ended = 0;
      let after = 0;
      const done = new Promise<void>((resolve, reject) => {
        filter.start({
          ...NOOP_OUT,
          push: () => {
            if (ended > 0) after++;
            return true;
          },
          end: () => {
            ended++;
            resolve();
          },
          fail: (r) => reject(new Error(r)),
        });
      });
      filter.write(Buffer.alloc(2500, 97));
      filter.write(Buffer.alloc(2500, 98));
      filter.end();
      await done;
      await new Promise((r) => setTimeout(r, 10));
      assert.equal(ended, 1);
      assert.equal(after, 0);
      // destroy at any point: right after start, and mid-body.
      const early = m.onResponseBody!(req, makeResponse(200, [['Content-Type', 'text/plain']]));
      early?.start(NOOP_OUT);
      early?.destroy();
      const mid = m.onResponseBody!(req, makeResponse(200, [['Content-Type', 'text/plain']]));
      mid?.start(NOOP_OUT);
      mid?.write(Buffer.alloc(4096, 99));
      mid?.destroy();
      mid?.destroy();
    });
  }
});
