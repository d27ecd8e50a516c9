import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type DynamicConfig, emptyDynamicConfig } from '../config/dynamic/schema.ts';
import type { ConfigIssue } from '../config/issues.ts';
import { mergeProviders } from './merge-providers.ts';

function config(fill: (c: DynamicConfig) => void): DynamicConfig {
  const c = emptyDynamicConfig();
  fill(c);
  return c;
}

const router = { rule: 'Host(`a.test`)', service: 's' } as DynamicConfig['http']['routers'][string];

describe('mergeProviders', () => {
  it("qualifies object and TLS options names with their provider, except `default`, `@` in the name or not (Traefik's MakeQualifiedName)", () => {
    const issues: ConfigIssue[] = [];
    const merged = mergeProviders(
      new Map([
        [
          'file',
          config((c) => {
            c.http.routers['r'] = router;
            c.http.routers['x@api'] = router;
            c.tls.options['default'] = {
              minVersion: 'VersionTLS13',
            } as DynamicConfig['tls']['options'][string];
            c.tls.options['strict'] = { sniStrict: true } as DynamicConfig['tls']['options'][string];
            c.tls.options['o@x'] = { sniStrict: true } as DynamicConfig['tls']['options'][string];
          }),
        ],
      ]),
      issues,
    );
    assert.deepEqual(Object.keys(merged.http.routers).sort(), ['r@file', 'x@api@file']);
    assert.deepEqual(Object.keys(merged.tls.options).sort(), ['default', 'o@x@file', 'strict@file']);
    assert.deepEqual(issues, []);
  });

  it('accepts the same default options or store from two providers', () => {
    const same = (): DynamicConfig =>
      config((c) => {
        c.tls.options['default'] = { minVersion: 'VersionTLS13' } as DynamicConfig['tls']['options'][string];
        c.tls.stores['default'] = {} as DynamicConfig['tls']['stores'][string];
      });
    const issues: ConfigIssue[] = [];
    mergeProviders(
      new Map([
        ['file', same()],
        ['api', same()],
      ]),
      issues,
    );
    assert.deepEqual(issues, []);
  });

  it('reports default options and stores that two providers define differently, naming both', () => {
    const issues: ConfigIssue[] = [];
    const merged = mergeProviders(
      new Map([
        [
          'file',
          config((c) => {
            c.tls.options['default'] = {
              minVersion: 'VersionTLS12',
            } as DynamicConfig['tls']['options'][string];
            c.tls.stores['default'] = {} as DynamicConfig['tls']['stores'][string];
          }),
        ],
        [
          'api',
          config((c) => {
            c.tls.options['default'] = {
              minVersion: 'VersionTLS13',
            } as DynamicConfig['tls']['options'][string];
            c.tls.stores['default'] = {
              defaultGeneratedCert: { resolver: 'le', domain: { main: 'a.test', sans: [] } },
            } as DynamicConfig['tls']['stores'][string];
          }),
        ],
      ]),
      issues,
    );
    assert.deepEqual(
      issues.map((i) => [i.severity, i.path.join('.'), i.message]),
      [
        [
          'error',
          'tls.options.default',
          'TLS options `default` is defined by providers file and api with different contents: define it in one provider',
        ],
        [
          'error',
          'tls.stores.default',
          'TLS store `default` is defined by providers file and api with different contents: define it in one provider',
        ],
      ],
    );
    // The first provider's stays in the merged result (the update is refused anyway).
    assert.deepEqual(merged.tls.options['default'], { minVersion: 'VersionTLS12' });
  });
});
