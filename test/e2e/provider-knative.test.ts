/**
 * Traefik's experimental Knative provider in the real proxy against the API server on loopback
 * (test/helpers/fake-kube.ts): a Knative Ingress of Traefik's class routes by host to the
 * cluster IPs of its revisions' Services (real backends on 127.0.0.1); a traffic split reaches
 * both revisions in proportion to its percents, each request carrying the split's and the path's
 * appended headers; a ClusterLocal rule is served on the private entry point only; an Ingress of
 * another class is ignored; the Ingress status is written back (Ready, the public load balancer);
 * and the provider is refused without `experimental.knative`, as Traefik refuses it.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type FakeKube, type KubeObj, startFakeKube } from '../helpers/fake-kube.ts';
import { httpRequest } from '../helpers/http-request.ts';
import { knativeIngressFor } from '../helpers/kube-objects.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { untilApplied, within } from '../helpers/wait.ts';

/** A revision's Service: its cluster IP is the loopback address its backend listens on. */
const revisionService = (name: string, port: number): KubeObj => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'default' },
  spec: { clusterIP: '127.0.0.1', ports: [{ name: 'http', port, protocol: 'TCP' }] },
});

/** A split to a revision's Service, by its port number (the backend's). */
const split = (service: string, percent: number, servicePort: number) => ({
  serviceName: service,
  serviceNamespace: 'default',
  servicePort,
  percent,
  appendHeaders: { 'Knative-Serving-Revision': service },
});

describe('Knative provider (e2e, experimental)', () => {
  let rev1: Backend;
  let rev2: Backend;
  let kube: FakeKube;
  let proxy: ProxyProcess;
  let web = 0;
  let internal = 0;

  before(async () => {
    const answer = (rev: string) => (req: IncomingMessage, res: ServerResponse) =>
      res.end(JSON.stringify({ rev, headers: req.headers }));
    [rev1, rev2, kube] = await Promise.all([
      startBackend(answer('rev1')),
      startBackend(answer('rev2')),
      startFakeKube(),
    ]);
    // Traefik dials the Service's cluster IP on the split's port: each Service's port is its backend's.
    kube.apply(revisionService('hello-00001', rev1.port));
    kube.apply(revisionService('hello-00002', rev2.port));
    kube.apply(
      knativeIngressFor('default', 'hello', {
        rules: [
          {
            hosts: ['hello.example'],
            visibility: 'ExternalIP',
            http: {
              paths: [
                {
                  appendHeaders: { 'X-Path-Added': 'yes' },
                  splits: [split('hello-00001', 75, rev1.port), split('hello-00002', 25, rev2.port)],
                },
              ],
            },
          },
        ],
      }),
    );
    kube.apply(
      knativeIngressFor('default', 'local', {
        rules: [
          {
            hosts: ['local.example'],
            visibility: 'ClusterLocal',
            http: { paths: [{ splits: [split('hello-00001', 100, rev1.port)] }] },
          },
        ],
      }),
    );
    kube.apply(
      knativeIngressFor(
        'default',
        'elsewhere',
        {
          rules: [
            {
              hosts: ['other.example'],
              http: { paths: [{ splits: [split('hello-00001', 100, rev1.port)] }] },
            },
          ],
        },
        'kourier.ingress.networking.knative.dev',
      ),
    );
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  internal:
    address: "127.0.0.1:0"
log: { level: INFO }
experimental:
  knative: true
providers:
  providersThrottleDuration: 50ms
  knative:
    endpoint: "${kube.url}"
    token: test-token
    publicEntrypoints: [web]
    privateEntrypoints: [internal]
    publicService: { name: traefik, namespace: ingress }
`,
    });
    web = proxy.ports['web'] ?? 0;
    internal = proxy.ports['internal'] ?? 0;
    await untilApplied(proxy, 0, async () => (await get(web, 'hello.example')).status === 200);
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all([rev1?.close(), rev2?.close(), kube?.close()]);
  });

  const get = (port: number, host: string) => httpRequest(port, { path: '/', headers: { host } });
  const seen = (text: string) => JSON.parse(text) as { rev: string; headers: Record<string, string> };

  it('routes by host to the revisions; other hosts and other classes are not routed', async () => {
    assert.equal((await get(web, 'hello.example')).status, 200);
    assert.equal((await get(web, 'unknown.example')).status, 404);
    assert.equal((await get(web, 'other.example')).status, 404, 'an Ingress of another class');
  });

  it('splits traffic by percent, with the split`s and the path`s appended headers', async () => {
    const counts: Record<string, number> = { rev1: 0, rev2: 0 };
    const n = 400;
    for (let i = 0; i < n; i++) {
      const r = await get(web, 'hello.example');
      assert.equal(r.status, 200);
      const s = seen(r.text);
      counts[s.rev] = (counts[s.rev] ?? 0) + 1;
      const want = s.rev === 'rev1' ? 'hello-00001' : 'hello-00002';
      assert.equal(s.headers['knative-serving-revision'], want, 'the picked split`s appendHeaders');
      assert.equal(s.headers['x-path-added'], 'yes', 'the path`s appendHeaders (headers middleware)');
    }
    // 75 / 25: within 5% of the total either way.
    assert.ok(Math.abs(counts['rev1']! - 0.75 * n) <= 0.05 * n, `rev1 ${counts['rev1']} of ${n}`);
    assert.ok(Math.abs(counts['rev2']! - 0.25 * n) <= 0.05 * n, `rev2 ${counts['rev2']} of ${n}`);
  });

  it('serves a ClusterLocal rule on the private entry point only', async () => {
    const r = await get(internal, 'local.example');
    assert.equal(r.status, 200);
    assert.equal(seen(r.text).rev, 'rev1');
    assert.equal((await get(web, 'local.example')).status, 404);
    assert.equal((await get(internal, 'hello.example')).status, 404, 'ExternalIP rules are public only');
  });

  it('writes the Ingress status back: Ready, with the public load balancer', async () => {
    const path =
      /^PUT \/apis\/networking\.internal\.knative\.dev\/v1alpha1\/namespaces\/default\/ingresses\/hello\/status$/;
    const obj = await within(kube.waitForWrite(path), 'the status write');
    const st = obj['status'] as {
      observedGeneration: number;
      conditions: { type: string; status: string; lastTransitionTime: string }[];
      publicLoadBalancer: unknown;
      privateLoadBalancer: unknown;
    };
    assert.equal(st.observedGeneration, 1);
    assert.deepEqual(
      st.conditions.map((c) => `${c.type}=${c.status}`),
      ['LoadBalancerReady=True', 'NetworkConfigured=True', 'Ready=True'],
    );
    assert.ok(st.conditions.every((c) => typeof c.lastTransitionTime === 'string'));
    assert.deepEqual(st.publicLoadBalancer, {
      ingress: [{ domainInternal: 'traefik.ingress.svc.cluster.local' }],
    });
    assert.deepEqual(st.privateLoadBalancer, {});
    // Not for another class.
    assert.ok(!kube.seen.some((l) => l.includes('/ingresses/elsewhere/status')));
  });

  it('is refused without experimental.knative, as Traefik refuses it', async () => {
    await assert.rejects(
      startProxy({
        config: `entryPoints:
  web:
    address: "127.0.0.1:0"
providers:
  knative:
    endpoint: "${kube.url}"
`,
        timeoutMs: 20_000,
      }),
      /experimental Knative feature must be enabled/,
    );
  });
});
