/**
 * Terminating-but-serving endpoints in the real proxy, as Traefik's CRD provider treats them
 * (pkg/provider/kubernetes/crd/kubernetes_http.go loadServers: `Fenced` servers): an
 * IngressRoute's Service has one ready endpoint (127.0.0.1) and one terminating that still serves
 * (::1, another EndpointSlice); requests without a cookie all reach the ready one, a request whose
 * sticky cookie names the terminating one still reaches it.
 */
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { stickyValue } from '../../src/runtime/sticky.ts';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type FakeKube, startFakeKube } from '../helpers/fake-kube.ts';
import { endpointSliceFor, ingressRouteFor, serviceFor } from '../helpers/kube-objects.ts';
import { providersHead } from '../helpers/provider-config.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { untilApplied } from '../helpers/wait.ts';

describe('Kubernetes CRD provider: a terminating endpoint that still serves is fenced (e2e)', () => {
  let ready: Backend;
  let draining: Server;
  let drainingPort = 0;
  let kube: FakeKube;
  let proxy: ProxyProcess;
  let web = 0;

  before(async () => {
    [ready, kube] = await Promise.all([startBackend((_req, res) => res.end('ready')), startFakeKube()]);
    draining = createServer((_req, res) => res.end('draining'));
    await new Promise<void>((resolve) => draining.listen(0, '::1', resolve));
    drainingPort = (draining.address() as AddressInfo).port;
    kube.apply(serviceFor('shop', 'web'));
    kube.apply(endpointSliceFor('shop', 'web', ['127.0.0.1'], ready.port));
    const slice = endpointSliceFor('shop', 'web', ['::1'], drainingPort);
    slice.metadata.name = 'web-terminating';
    slice['addressType'] = 'IPv6';
    (slice['endpoints'] as { conditions: unknown }[])[0]!.conditions = {
      ready: false,
      serving: true,
      terminating: true,
    };
    kube.apply(slice);
    kube.apply(
      ingressRouteFor('shop', 'sticky', 'PathPrefix(`/`)', 'web', {
        services: [{ name: 'web', port: 80, sticky: { cookie: { name: 'pod' } } }],
      }),
    );
    proxy = await startProxy({
      config: `${providersHead('50ms')}  kubernetesCRD:
    endpoint: "${kube.url}"
    token: test-token
`,
    });
    web = proxy.ports['web'] ?? 0;
  });

  after(async () => {
    await proxy?.stop();
    draining?.closeAllConnections();
    await Promise.all([
      ready?.close(),
      kube?.close(),
      new Promise<void>((resolve) => (draining === undefined ? resolve() : draining.close(() => resolve()))),
    ]);
  });

  const get = (cookie?: string): Promise<{ status: number; text: string }> =>
    new Promise((resolve, reject) => {
      request(
        {
          port: web,
          host: '127.0.0.1',
          path: '/',
          agent: false,
          headers: cookie === undefined ? {} : { cookie },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            text += c;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      )
        .on('error', reject)
        .end();
    });

  it('sends new clients to the ready endpoint only, and a sticky client still to the terminating one', async () => {
    await untilApplied(proxy, 0, async () => (await get()).status === 200);
    const answers = new Set<string>();
    for (let i = 0; i < 12; i++) answers.add((await get()).text);
    assert.deepEqual([...answers], ['ready']);
    const fencedCookie = `pod=${stickyValue(`http://[::1]:${drainingPort}`)}`;
    assert.deepEqual(await get(fencedCookie), { status: 200, text: 'draining' });
  });
});
