import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startFakeKube } from '../../../test/helpers/fake-kube.ts';
import { ingressFor, loopbackServices } from '../../../test/helpers/kube-objects.ts';
import { kubernetesIngressNginxProviderSchema } from '../../config/static/providers.ts';
import type { ProviderUpdate } from '../provider.ts';
import { kubernetesIngressNginxProvider } from './ingress-nginx-provider.ts';

const namespace = (name: string, team: string) => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels: { team } },
});

const routers = (u: ProviderUpdate): string[] =>
  Object.keys(u.config?.http.routers ?? {})
    .filter((k) => !k.endsWith('-tls'))
    .sort();

describe('kubernetesIngressNGINX watchNamespaceSelector', () => {
  it('refuses watchNamespace with watchNamespaceSelector, as Traefik`s validateKubernetesProviders', () => {
    const r = kubernetesIngressNginxProviderSchema.safeParse({
      watchNamespace: 'a',
      watchNamespaceSelector: 'b=c',
    });
    assert.equal(r.success, false);
    assert.match(r.error!.issues[0]!.message, /mutually exclusive/);
  });

  it('keeps the objects of the namespaces the selector selects, and follows their labels', async (t) => {
    const kube = await startFakeKube();
    t.after(() => kube.close());
    for (const ns of ['shop', 'lab']) {
      for (const o of loopbackServices(ns, { web: 9 })) kube.apply(o);
      kube.apply(
        ingressFor(ns, 'front', '', [{ path: '/', pathType: 'Prefix', service: 'web' }], {
          annotations: { 'kubernetes.io/ingress.class': 'nginx' },
        }),
      );
    }
    kube.apply(namespace('shop', 'a'));
    kube.apply(namespace('lab', 'b'));
    const cfg = kubernetesIngressNginxProviderSchema.parse({
      endpoint: kube.url,
      token: 'test-token',
      watchNamespaceSelector: 'team=a',
    });
    const ctl = new AbortController();
    t.after(() => ctl.abort());
    const it = kubernetesIngressNginxProvider(cfg, {}, ['web'], {}).watch(ctl.signal)[Symbol.asyncIterator]();
    let u = (await it.next()).value as ProviderUpdate;
    assert.deepEqual(routers(u), ['shop-front-rule-0-path-0']);
    kube.apply(namespace('lab', 'a'));
    while (routers(u).length < 2) u = (await it.next()).value as ProviderUpdate;
    assert.deepEqual(routers(u), ['lab-front-rule-0-path-0', 'shop-front-rule-0-path-0']);
  });
  it('reads the one namespace watchNamespace names', async (t) => {
    const kube = await startFakeKube();
    t.after(() => kube.close());
    for (const ns of ['shop', 'lab']) {
      for (const o of loopbackServices(ns, { web: 9 })) kube.apply(o);
      kube.apply(
        ingressFor(ns, 'front', '', [{ path: '/', pathType: 'Prefix', service: 'web' }], {
          annotations: { 'kubernetes.io/ingress.class': 'nginx' },
        }),
      );
    }
    const cfg = kubernetesIngressNginxProviderSchema.parse({
      endpoint: kube.url,
      token: 't',
      watchNamespace: 'lab',
    });
    const ctl = new AbortController();
    t.after(() => ctl.abort());
    const it = kubernetesIngressNginxProvider(cfg, {}, ['web'], {}).watch(ctl.signal)[Symbol.asyncIterator]();
    assert.deepEqual(routers((await it.next()).value as ProviderUpdate), ['lab-front-rule-0-path-0']);
    assert.ok(kube.seen.some((l) => l.startsWith('GET /apis/networking.k8s.io/v1/namespaces/lab/ingresses')));
  });
});
