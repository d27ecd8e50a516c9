/**
 * The Gateway API provider's Gateway-level behaviour of Traefik v3.8 in the real proxy, against
 * the API server on loopback (test/helpers/fake-kube.ts, the v1.6.1 Standard CRDs) and a real
 * backend that answers with the path it got.
 *
 * Listener isolation (the conformance suite's GatewayHTTPListenerIsolation): a Gateway whose HTTP
 * listeners on one port have no hostname, `*.example.com`, `*.foo.example.com` and
 * `abc.foo.example.com`, one route attached to each (`sectionName`) under its own path: a request
 * reaches only the routes of the most specific listener for its host. And the brief's two
 * listeners `*.example.com` and `foo.example.com`: `foo.example.com` reaches the route of the
 * `foo.example.com` listener only.
 *
 * ListenerSet (Standard since Gateway API v1.5, Traefik v3.8): a ListenerSet of another namespace
 * adds a listener to a Gateway that allows it (`allowedListeners.namespaces.from: All`); an
 * HTTPRoute whose parentRef is the ListenerSet is served on it, and the ListenerSet's, the
 * Gateway's (`attachedListenerSets`) and the route's statuses are written as Traefik writes them;
 * a ListenerSet of a Gateway that does not allow it is `NotAllowed` and its route not served.
 * And the GatewayClass status lists the features Traefik v3.8 claims (`supportedFeatures`); with
 * HTTPS listeners, each listener router's own TLS options make a request whose Host belongs to
 * another listener than its SNI a 421 (GatewayHTTPSListenerDetectMisdirectedRequests).
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type FakeKube, startFakeKube } from '../helpers/fake-kube.ts';
import {
  endpointSliceFor,
  gatewayClassFor,
  gatewayFor,
  httpRouteFor,
  listenerSetFor,
  secretFor,
  serviceFor,
} from '../helpers/kube-objects.ts';
import { freePort } from '../helpers/pebble.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { TestPki, tlsRawRequest } from '../helpers/tls-certs.ts';
import { untilApplied, within } from '../helpers/wait.ts';

interface Cond {
  type: string;
  status: string;
  reason: string;
}
const conds = (c: readonly Cond[] | undefined): string[] =>
  (c ?? []).map((x) => `${x.type}=${x.status}/${x.reason}`);

const get = (port: number, host: string, path: string): Promise<{ status: number; text: string }> =>
  new Promise((resolve, reject) => {
    request({ port, host: '127.0.0.1', path, headers: { host }, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    })
      .on('error', reject)
      .end();
  });

/** An HTTPRoute attached to one listener (`sectionName`) of `gw`, under the path `/<listener>`. */
const routeTo = (gw: string, listener: string) =>
  httpRouteFor('apps', `${gw}-${listener}`, {
    parentRefs: [{ name: gw, sectionName: listener }],
    rules: [
      {
        matches: [{ path: { type: 'PathPrefix', value: `/${listener}` } }],
        backendRefs: [{ name: 'app', port: 80 }],
      },
    ],
  });

describe('Kubernetes Gateway API provider: listener isolation and ListenerSets (e2e, Traefik v3.8)', () => {
  let app: Backend;
  let kube: FakeKube;
  let proxy: ProxyProcess;
  let isoPort = 0;
  let twoPort = 0;
  let setPort = 0;
  let tlsPort = 0;
  let pki: TestPki;

  before(async () => {
    [app, kube, isoPort, twoPort, setPort, tlsPort] = await Promise.all([
      startBackend((req, res) => res.end(`app ${req.url}`)),
      startFakeKube(),
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    pki = new TestPki('Gateway CA');
    const cert = pki.issue('foo.example', ['foo.example', 'bar.example', '*.wild.example']);
    const https = (name: string, hostname: string) => ({
      name,
      port: tlsPort,
      protocol: 'HTTPS',
      hostname,
      tls: { mode: 'Terminate', certificateRefs: [{ kind: 'Secret', group: '', name: 'cert' }] },
    });
    const misdirected = [
      secretFor('apps', 'cert', { 'tls.crt': cert.certPem, 'tls.key': cert.keyPem }),
      gatewayFor('apps', 'secure', [
        https('foo', 'foo.example'),
        https('bar', 'bar.example'),
        https('wild', '*.wild.example'),
      ]),
      routeTo('secure', 'foo'),
      routeTo('secure', 'bar'),
      routeTo('secure', 'wild'),
    ];
    const shared = gatewayFor('apps', 'shared', [
      { name: 'main', port: setPort, protocol: 'HTTP', hostname: 'gw.example' },
    ]);
    (shared['spec'] as Record<string, unknown>)['allowedListeners'] = { namespaces: { from: 'All' } };
    const listenerSets = [
      serviceFor('team', 'app'),
      endpointSliceFor('team', 'app', ['127.0.0.1'], app.port),
      shared,
      // Its default allowedListeners allow none.
      gatewayFor('apps', 'closed', [
        { name: 'main', port: setPort, protocol: 'HTTP', hostname: 'closed.example' },
      ]),
      listenerSetFor('team', 'extra', { name: 'shared', namespace: 'apps' }, [
        { name: 'team', port: setPort, protocol: 'HTTP', hostname: 'team.example' },
      ]),
      listenerSetFor('team', 'refused', { name: 'closed', namespace: 'apps' }, [
        { name: 'team', port: setPort, protocol: 'HTTP', hostname: 'refused.example' },
      ]),
      httpRouteFor('team', 'via-set', {
        parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'ListenerSet', name: 'extra' }],
        rules: [{ backendRefs: [{ name: 'app', port: 80 }] }],
      }),
      httpRouteFor('team', 'via-refused', {
        parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'ListenerSet', name: 'refused' }],
        rules: [{ backendRefs: [{ name: 'app', port: 80 }] }],
      }),
    ];
    const isolation = [
      { name: 'empty-hostname', port: isoPort, protocol: 'HTTP' },
      { name: 'wildcard-example-com', port: isoPort, protocol: 'HTTP', hostname: '*.example.com' },
      { name: 'wildcard-foo-example-com', port: isoPort, protocol: 'HTTP', hostname: '*.foo.example.com' },
      { name: 'abc-foo-example-com', port: isoPort, protocol: 'HTTP', hostname: 'abc.foo.example.com' },
    ];
    for (const o of [
      serviceFor('apps', 'app'),
      endpointSliceFor('apps', 'app', ['127.0.0.1'], app.port),
      gatewayClassFor(),
      gatewayFor('apps', 'iso', isolation),
      ...isolation.map((l) => routeTo('iso', l.name)),
      gatewayFor('apps', 'two', [
        { name: 'wildcard', port: twoPort, protocol: 'HTTP', hostname: '*.example.com' },
        { name: 'foo', port: twoPort, protocol: 'HTTP', hostname: 'foo.example.com' },
      ]),
      routeTo('two', 'wildcard'),
      routeTo('two', 'foo'),
      ...listenerSets,
      ...misdirected,
      // No entry point listens on port 1.
      gatewayFor('apps', 'broken', [
        { name: 'nowhere', port: 1, protocol: 'HTTP' },
        { name: 'ok', port: isoPort, protocol: 'HTTP', hostname: 'broken.example' },
      ]),
    ])
      kube.apply(o);
    proxy = await startProxy({
      config: `entryPoints:
  iso:
    address: "127.0.0.1:${isoPort}"
  two:
    address: "127.0.0.1:${twoPort}"
  sets:
    address: "127.0.0.1:${setPort}"
  secure:
    address: "127.0.0.1:${tlsPort}"
log: { level: INFO }
providers:
  providersThrottleDuration: 50ms
  kubernetesGateway:
    endpoint: "${kube.url}"
    token: test-token
    # Accepted; it enables nothing since Traefik v3.8.
    experimentalChannel: true
`,
    });
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all([kube?.close(), app?.close()]);
    pki?.remove();
  });

  it('serves a request only with the routes of the most specific listener for its host (GatewayHTTPListenerIsolation)', async () => {
    await untilApplied(
      proxy,
      0,
      async () => (await get(isoPort, 'abc.foo.example.com', '/abc-foo-example-com')).status === 200,
    );
    const cases: [string, string, number][] = [
      ['bar.com', '/empty-hostname', 200],
      ['bar.com', '/wildcard-example-com', 404],
      ['bar.com', '/wildcard-foo-example-com', 404],
      ['bar.com', '/abc-foo-example-com', 404],
      ['bar.example.com', '/wildcard-example-com', 200],
      ['bar.example.com', '/empty-hostname', 404],
      ['bar.example.com', '/wildcard-foo-example-com', 404],
      ['bar.example.com', '/abc-foo-example-com', 404],
      ['bar.foo.example.com', '/wildcard-foo-example-com', 200],
      ['bar.foo.example.com', '/empty-hostname', 404],
      ['bar.foo.example.com', '/wildcard-example-com', 404],
      ['bar.foo.example.com', '/abc-foo-example-com', 404],
      ['abc.foo.example.com', '/abc-foo-example-com', 200],
      ['abc.foo.example.com', '/empty-hostname', 404],
      ['abc.foo.example.com', '/wildcard-example-com', 404],
      ['abc.foo.example.com', '/wildcard-foo-example-com', 404],
    ];
    const got: [string, string, number][] = [];
    for (const [host, path] of cases) got.push([host, path, (await get(isoPort, host, path)).status]);
    assert.deepEqual(got, cases);
    assert.deepEqual(await get(isoPort, 'abc.foo.example.com', '/abc-foo-example-com'), {
      status: 200,
      text: 'app /abc-foo-example-com',
    });
  });

  it('sends foo.example.com to the foo.example.com listener`s route only, not to the *.example.com one`s', async () => {
    await untilApplied(proxy, 0, async () => (await get(twoPort, 'foo.example.com', '/foo')).status === 200);
    assert.deepEqual(await get(twoPort, 'foo.example.com', '/foo'), { status: 200, text: 'app /foo' });
    assert.equal((await get(twoPort, 'foo.example.com', '/wildcard')).status, 404);
    assert.deepEqual(await get(twoPort, 'bar.example.com', '/wildcard'), {
      status: 200,
      text: 'app /wildcard',
    });
    assert.equal((await get(twoPort, 'bar.example.com', '/foo')).status, 404);
  });

  it('serves an HTTPRoute attached to a ListenerSet the Gateway allows, and writes the statuses Traefik v3.8 writes', async () => {
    await untilApplied(proxy, 0, async () => (await get(setPort, 'team.example', '/x')).status === 200);
    assert.deepEqual(await get(setPort, 'team.example', '/x'), { status: 200, text: 'app /x' });
    // The ListenerSet's listener takes its routes only: the Gateway's hostname has none.
    assert.equal((await get(setPort, 'gw.example', '/x')).status, 404);
    // A ListenerSet the Gateway does not allow adds no listener.
    assert.equal((await get(setPort, 'refused.example', '/x')).status, 404);

    const set = await within(
      kube.waitForWrite(
        /^PUT \/apis\/gateway\.networking\.k8s\.io\/v1\/namespaces\/team\/listenersets\/extra\/status$/,
      ),
      'the ListenerSet status',
    );
    const st = set['status'] as {
      conditions: (Cond & { observedGeneration: number })[];
      listeners: { name: string; attachedRoutes: number; conditions: Cond[] }[];
    };
    assert.deepEqual(conds(st.conditions), ['Accepted=True/Accepted', 'Programmed=True/Programmed']);
    // The ListenerSet's generation, not its Gateway's.
    const gen = set.metadata['generation'];
    assert.deepEqual(
      st.conditions.map((c) => c.observedGeneration),
      [gen, gen],
    );
    assert.deepEqual(
      st.listeners.map((l) => [l.name, l.attachedRoutes, conds(l.conditions)]),
      [
        [
          'team',
          1,
          ['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs', 'Programmed=True/Programmed'],
        ],
      ],
    );
    const refused = await within(
      kube.waitForWrite(
        /^PUT \/apis\/gateway\.networking\.k8s\.io\/v1\/namespaces\/team\/listenersets\/refused\/status$/,
      ),
      'the refused ListenerSet status',
    );
    assert.deepEqual(conds((refused['status'] as { conditions: Cond[] }).conditions), [
      'Accepted=False/NotAllowed',
      'Programmed=False/NotAllowed',
    ]);
    const gw = await within(
      kube.waitForWrite(
        /^PUT \/apis\/gateway\.networking\.k8s\.io\/v1\/namespaces\/apps\/gateways\/shared\/status$/,
      ),
      'the Gateway status',
    );
    const gs = gw['status'] as { attachedListenerSets: number; listeners: { name: string }[] };
    assert.equal(gs.attachedListenerSets, 1);
    // The Gateway's status lists its own listeners only.
    assert.deepEqual(
      gs.listeners.map((l) => l.name),
      ['main'],
    );
    const route = await within(
      kube.waitForWrite(
        /^PUT \/apis\/gateway\.networking\.k8s\.io\/v1\/namespaces\/team\/httproutes\/via-set\/status$/,
      ),
      'the route status',
    );
    const parents = (route['status'] as { parents: { parentRef: { kind: string }; conditions: Cond[] }[] })
      .parents;
    assert.deepEqual(
      parents.map((p) => [p.parentRef.kind, conds(p.conditions)]),
      [['ListenerSet', ['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs']]],
    );
  });

  it('writes the GatewayClass status with the features Traefik v3.8 supports', async () => {
    const cls = await within(
      kube.waitForWrite(/^PUT \/apis\/gateway\.networking\.k8s\.io\/v1\/gatewayclasses\/traefik\/status$/),
      'the GatewayClass status',
    );
    const st = cls['status'] as { conditions: Cond[]; supportedFeatures: { name: string }[] };
    assert.deepEqual(conds(st.conditions), ['Accepted=True/Handled']);
    const names = st.supportedFeatures.map((f) => f.name);
    assert.equal(names.length, 32);
    for (const f of ['GatewayHTTPListenerIsolation', 'TCPRoute', 'TLSRoute', 'TLSRouteModeTerminate'])
      assert.ok(names.includes(f), f);
  });

  it('answers 421 to a request whose Host is another HTTPS listener`s than its SNI (GatewayHTTPSListenerDetectMisdirectedRequests)', async () => {
    const ask = async (sni: string, host: string, path: string): Promise<string> => {
      const out = await tlsRawRequest(
        tlsPort,
        sni,
        pki.ca.certPem,
        `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      );
      return out.split('\r\n')[0] ?? '';
    };
    await untilApplied(proxy, 0, async () =>
      (await ask('foo.example', 'foo.example', '/foo')).includes(' 200 '),
    );
    assert.deepEqual(
      [
        await ask('foo.example', 'foo.example', '/foo'),
        await ask('foo.example', 'bar.example', '/bar'),
        await ask('a.wild.example', 'foo.example', '/foo'),
        await ask('foo.example', 'a.wild.example', '/wild'),
        await ask('a.wild.example', 'b.wild.example', '/wild'),
      ],
      [
        'HTTP/1.1 200 OK',
        'HTTP/1.1 421 Misdirected Request',
        'HTTP/1.1 421 Misdirected Request',
        'HTTP/1.1 421 Misdirected Request',
        'HTTP/1.1 200 OK',
      ],
    );
  });

  it('writes an invalid listener`s error conditions only, as Traefik v3.8`s makeGatewayStatus', async () => {
    const gw = await within(
      kube.waitForWrite(
        /^PUT \/apis\/gateway\.networking\.k8s\.io\/v1\/namespaces\/apps\/gateways\/broken\/status$/,
      ),
      'the broken Gateway status',
    );
    const st = gw['status'] as { conditions: Cond[]; listeners: { name: string; conditions: Cond[] }[] };
    assert.deepEqual(
      st.listeners.map((l) => [l.name, conds(l.conditions)]),
      [
        ['nowhere', ['Accepted=False/PortUnavailable']],
        ['ok', ['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs', 'Programmed=True/Programmed']],
      ],
    );
    assert.deepEqual(conds(st.conditions), ['Accepted=True/ListenersNotValid', 'Programmed=True/Programmed']);
  });
});
