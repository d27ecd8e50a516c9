import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startFakeKube } from '../../../test/helpers/fake-kube.ts';
import { crdObject } from '../../../test/helpers/kube-objects.ts';
import { selfSignedCertificate } from '../../../test/helpers/tls-certs.ts';
import { formatIssue } from '../../config/issues.ts';
import { kubernetesCrdProviderSchema } from '../../config/static/providers.ts';
import type { ProviderUpdate } from '../provider.ts';
import { KubernetesCrdProvider } from './crd-provider.ts';

describe('kubernetesCRD ServersTransport rootCAs from a ConfigMap (API server on loopback)', () => {
  it('reads tls.ca / ca.crt of the ConfigMap for HTTP and TCP transports, and follows the ConfigMap`s changes', async (t) => {
    const kube = await startFakeKube();
    t.after(() => kube.close());
    const ca = selfSignedCertificate(['ca.example']);
    const other = selfSignedCertificate(['other.example']);
    kube.apply(crdObject('ServersTransport', 'default', 'tr', { rootCAs: [{ configMap: 'ca' }] }));
    kube.apply(
      crdObject('ServersTransportTCP', 'default', 'trtcp', { tls: { rootCAs: [{ configMap: 'ca' }] } }),
    );
    const cfg = kubernetesCrdProviderSchema.parse({ endpoint: kube.url, token: 'test-token' });
    const ctl = new AbortController();
    t.after(() => ctl.abort());
    const it = new KubernetesCrdProvider(cfg, {}, {}).watch(ctl.signal)[Symbol.asyncIterator]();
    let u = (await it.next()).value as ProviderUpdate;
    assert.equal(u.config?.http.serversTransports['default-tr'], undefined);
    assert.ok(
      u.issues.map(formatIssue).some((i) => i.includes('configMap default/ca not found')),
      u.issues.map(formatIssue).join('\n'),
    );
    kube.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'ca', namespace: 'default' },
      data: { 'ca.crt': ca.certPem },
    });
    while (u.config?.http.serversTransports['default-tr'] === undefined)
      u = (await it.next()).value as ProviderUpdate;
    assert.deepEqual(u.config.http.serversTransports['default-tr'].rootCAs, [ca.certPem]);
    assert.deepEqual(u.config.tcp?.serversTransports['default-trtcp']?.tls?.rootCAs, [ca.certPem]);
    // tls.ca is read before ca.crt (Traefik's getCABlocksFromConfigMap).
    kube.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'ca', namespace: 'default' },
      data: { 'ca.crt': ca.certPem, 'tls.ca': other.certPem },
    });
    while (u.config?.http.serversTransports['default-tr']?.rootCAs?.[0] !== other.certPem)
      u = (await it.next()).value as ProviderUpdate;
    assert.deepEqual(u.config.tcp?.serversTransports['default-trtcp']?.tls?.rootCAs, [other.certPem]);
  });
});
