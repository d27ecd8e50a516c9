import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { staticConfigSchema } from './schema.ts';
import {
  ALIAS_HEADERS_NOT_CONFIGURED,
  CROSS_NAMESPACE_ENABLED,
  EXTERNAL_NAME_ENABLED,
  FORWARDED_HEADERS_INSECURE,
  PROXY_PROTOCOL_INSECURE,
  securityNotices,
} from './security-notices.ts';

function notices(input: Record<string, unknown>): [string, string, Record<string, string>][] {
  return securityNotices(staticConfigSchema.parse(input)).map((n) => [n.level, n.msg, { ...n.fields }]);
}

describe('securityNotices', () => {
  it('warns once per HTTP entry point without aliasHeadersStrategy, as Traefik v3.7.12', () => {
    assert.deepEqual(
      notices({
        entryPoints: {
          web: { address: ':80' },
          kept: { address: ':81', http: { aliasHeadersStrategy: 'keep' } },
          deleted: { address: ':82', http: { aliasHeadersStrategy: 'delete' } },
          old: { address: ':83', http: { underscoreHeadersStrategy: 'reject' } },
          dns: { address: ':53/udp' },
        },
      }),
      [['warn', ALIAS_HEADERS_NOT_CONFIGURED, { entryPointName: 'web' }]],
    );
  });

  it('warns of insecure forwarded headers and PROXY protocol (ours)', () => {
    assert.deepEqual(
      notices({
        entryPoints: {
          web: {
            address: ':80',
            http: { aliasHeadersStrategy: 'delete' },
            forwardedHeaders: { insecure: true },
            proxyProtocol: { insecure: true },
          },
          lan: {
            address: ':81',
            http: { aliasHeadersStrategy: 'delete' },
            forwardedHeaders: { trustedIPs: ['10.0.0.0/8'] },
          },
        },
      }),
      [
        ['warn', FORWARDED_HEADERS_INSECURE, { entryPointName: 'web' }],
        ['warn', PROXY_PROTOCOL_INSECURE, { entryPointName: 'web' }],
      ],
    );
  });

  it("says what Traefik's Kubernetes providers say of allowCrossNamespace and allowExternalNameServices", () => {
    assert.deepEqual(
      notices({
        providers: {
          kubernetesCRD: { allowCrossNamespace: true, allowExternalNameServices: true },
          kubernetesIngress: { allowExternalNameServices: true },
        },
      }),
      [
        ['warn', CROSS_NAMESPACE_ENABLED, { providerName: 'kubernetescrd' }],
        ['info', EXTERNAL_NAME_ENABLED, { providerName: 'kubernetescrd' }],
        ['info', EXTERNAL_NAME_ENABLED, { providerName: 'kubernetes' }],
      ],
    );
    assert.deepEqual(notices({ providers: { kubernetesCRD: {}, kubernetesIngress: {} } }), []);
  });
});
