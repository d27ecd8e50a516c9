/**
 * The Gateway API provider's TCPRoutes, TLSRoutes and BackendTLSPolicies in the real proxy, read at
 * `v1` without experimentalChannel as Traefik v3.8 does (the fake API server serves the v1.6.1
 * Standard CRDs: no `v1alpha2`, `v1alpha3`), against the API server on loopback
 * (test/helpers/fake-kube.ts) and real backends: a TCPRoute on
 * a TCP listener carries bytes to a TCP echo server; a TLSRoute on a TLS listener in Passthrough
 * mode chooses its backend by SNI and the client sees the backend's own certificate; a TLSRoute
 * on a TLS listener in Terminate mode is served with the listener's certificate Secret and the
 * cleartext bytes reach an echo server; the TCPRoute's status is written back at `v1`. And a
 * BackendTLSPolicy: an HTTPRoute's HTTPS backend signed by a private CA answers 502
 * until a policy gives its hostname and the CA (a ConfigMap), then the backend's own answer; the
 * policy's ancestors status is written back.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { type FakeKube, type KubeObj, startFakeKube } from '../helpers/fake-kube.ts';
import {
  endpointSliceFor,
  gatewayClassFor,
  gatewayFor,
  httpRouteFor,
  secretFor,
  serviceFor,
  tcpRouteFor,
  tlsRouteFor,
} from '../helpers/kube-objects.ts';
import { startEchoServer, startTlsBackend, type TcpBackend, tcpExchange } from '../helpers/l4.ts';
import { freePort } from '../helpers/pebble.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { TestPki } from '../helpers/tls-certs.ts';
import { untilApplied, within } from '../helpers/wait.ts';

/** A Service `name` with one port (named `main`), whose one endpoint is 127.0.0.1:`port`. */
function backendService(ns: string, name: string, servicePort: number, port: number): KubeObj[] {
  const svc = serviceFor(ns, name, servicePort);
  (svc['spec'] as { ports: { name: string }[] }).ports[0]!.name = 'main';
  const slice = endpointSliceFor(ns, name, ['127.0.0.1'], port);
  (slice['ports'] as { name: string }[])[0]!.name = 'main';
  return [svc, slice];
}

interface Hello {
  ok: boolean;
  cn?: string;
  echoed?: string;
  error?: string;
}

describe('Kubernetes Gateway API provider: TCPRoute, TLSRoute, BackendTLSPolicy (e2e, v1 without experimentalChannel)', () => {
  let kube: FakeKube;
  let proxy: ProxyProcess;
  let backendPki: TestPki;
  let gatewayPki: TestPki;
  let echo: TcpBackend;
  let tlsBackend: TcpBackend;
  let privatePki: TestPki;
  let privateBackend: TcpBackend;
  let reencBackend: TcpBackend;
  let tcpPort = 0;
  let tlsPort = 0;
  let webPort = 0;

  before(async () => {
    backendPki = new TestPki('Backend CA');
    gatewayPki = new TestPki('Gateway CA');
    const passCert = backendPki.issue('pass.test', ['pass.test']);
    const termCert = gatewayPki.issue('term.test', ['term.test', 'reenc.test']);
    privatePki = new TestPki('Private CA');
    const privateCert = privatePki.issue('private.internal', ['private.internal']);
    const reencCert = privatePki.issue('reenc.internal', ['reenc.internal']);
    [kube, echo, tlsBackend, privateBackend, reencBackend, tcpPort, tlsPort, webPort] = await Promise.all([
      startFakeKube(),
      startEchoServer(),
      startTlsBackend(passCert, 'echo', 'pass backend'),
      startTlsBackend(privateCert, 'http', 'private'),
      startTlsBackend(reencCert, 'echo', 'reenc'),
      freePort(),
      freePort(),
      freePort(),
    ]);
    for (const o of [
      ...backendService('apps', 'echo', 7, echo.port),
      ...backendService('apps', 'secure', 443, tlsBackend.port),
      ...backendService('apps', 'private', 443, privateBackend.port),
      ...backendService('apps', 'reenc', 443, reencBackend.port),
      secretFor('apps', 'term-cert', { 'tls.crt': termCert.certPem, 'tls.key': termCert.keyPem }),
      gatewayClassFor(),
      gatewayFor('apps', 'gw', [
        { name: 'web', port: webPort, protocol: 'HTTP' },
        { name: 'tcp', port: tcpPort, protocol: 'TCP' },
        { name: 'pass', port: tlsPort, protocol: 'TLS', hostname: 'pass.test', tls: { mode: 'Passthrough' } },
        {
          name: 'term',
          port: tlsPort,
          protocol: 'TLS',
          hostname: 'term.test',
          tls: { mode: 'Terminate', certificateRefs: [{ kind: 'Secret', group: '', name: 'term-cert' }] },
        },
        {
          name: 'reenc',
          port: tlsPort,
          protocol: 'TLS',
          hostname: 'reenc.test',
          tls: { mode: 'Terminate', certificateRefs: [{ kind: 'Secret', group: '', name: 'term-cert' }] },
        },
      ]),
      tlsRouteFor('apps', 'reenc', {
        parentRefs: [{ name: 'gw', sectionName: 'reenc' }],
        rules: [{ backendRefs: [{ name: 'reenc', port: 443 }] }],
      }),
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'reenc-ca', namespace: 'apps' },
        data: { 'ca.crt': privatePki.ca.certPem },
      },
      {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'BackendTLSPolicy',
        metadata: { name: 'reenc-tls', namespace: 'apps', generation: 1 },
        spec: {
          targetRefs: [{ group: '', kind: 'Service', name: 'reenc' }],
          validation: {
            hostname: 'reenc.internal',
            caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'reenc-ca' }],
          },
        },
      },
      tcpRouteFor('apps', 'echo', {
        parentRefs: [{ name: 'gw', sectionName: 'tcp' }],
        rules: [{ backendRefs: [{ name: 'echo', port: 7 }] }],
      }),
      tlsRouteFor('apps', 'pass', {
        parentRefs: [{ name: 'gw', sectionName: 'pass' }],
        rules: [{ backendRefs: [{ name: 'secure', port: 443 }] }],
      }),
      httpRouteFor('apps', 'private', {
        parentRefs: [{ name: 'gw', sectionName: 'web' }],
        rules: [{ backendRefs: [{ name: 'private', port: 443 }] }],
      }),
      tlsRouteFor('apps', 'term', {
        parentRefs: [{ name: 'gw', sectionName: 'term' }],
        rules: [{ backendRefs: [{ name: 'echo', port: 7 }] }],
      }),
    ])
      kube.apply(o);
    proxy = await startProxy({
      config: `entryPoints:
  tcp:
    address: "127.0.0.1:${tcpPort}"
  tls:
    address: "127.0.0.1:${tlsPort}"
  web:
    address: "127.0.0.1:${webPort}"
log: { level: INFO }
providers:
  providersThrottleDuration: 50ms
  kubernetesGateway:
    endpoint: "${kube.url}"
    token: test-token
    # Traefik's key, loaded: every route here is in apps.
    crossProviderNamespaces: [apps]
`,
    });
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all([
      kube?.close(),
      echo?.close(),
      tlsBackend?.close(),
      privateBackend?.close(),
      reencBackend?.close(),
    ]);
    backendPki?.remove();
    privatePki?.remove();
    gatewayPki?.remove();
  });

  const hello = (servername: string, ca: string): Promise<Hello> =>
    new Promise((resolve) => {
      const s = tlsConnect({ port: tlsPort, host: '127.0.0.1', servername, ca });
      s.setTimeout(5_000, () => s.destroy(new Error('timeout')));
      s.once('secureConnect', () => {
        const cn = String(s.getPeerCertificate().subject?.CN ?? '');
        s.write(`hello ${servername}`);
        s.once('data', (d: Buffer) => {
          resolve({ ok: s.authorized, cn, echoed: d.toString() });
          s.destroy();
        });
      });
      s.once('error', (e) => resolve({ ok: false, error: e.message }));
    });

  it('carries a TCPRoute`s bytes to a TCP echo server', async () => {
    await untilApplied(
      proxy,
      0,
      async () => (await tcpExchange(tcpPort, 'ping', { untilData: 'ping', ms: 3_000 })).how === 'data',
    );
    const r = await tcpExchange(tcpPort, 'hello through a TCPRoute', { endAfter: 'TCPRoute', ms: 5_000 });
    assert.equal(r.data.toString(), 'hello through a TCPRoute');
  });

  it('passes TLS through by SNI: the client sees the backend`s own certificate', async () => {
    await untilApplied(proxy, 0, async () => (await hello('pass.test', backendPki.ca.certPem)).ok);
    assert.deepEqual(await hello('pass.test', backendPki.ca.certPem), {
      ok: true,
      cn: 'pass.test',
      echoed: 'hello pass.test',
    });
  });

  it('terminates TLS with the listener`s certificate Secret and carries the cleartext to the backend', async () => {
    await untilApplied(proxy, 0, async () => (await hello('term.test', gatewayPki.ca.certPem)).ok);
    assert.deepEqual(await hello('term.test', gatewayPki.ca.certPem), {
      ok: true,
      cn: 'term.test',
      echoed: 'hello term.test',
    });
  });

  it('re-encrypts a terminated TLSRoute`s bytes to its backend with the BackendTLSPolicy`s CA and hostname (traefik/traefik#13332)', async () => {
    await untilApplied(proxy, 0, async () => (await hello('reenc.test', gatewayPki.ca.certPem)).ok);
    assert.deepEqual(await hello('reenc.test', gatewayPki.ca.certPem), {
      ok: true,
      cn: 'term.test',
      echoed: 'hello reenc.test',
    });
    const written = await within(
      kube.waitForWrite(
        /^PUT \/apis\/gateway\.networking\.k8s\.io\/v1\/namespaces\/apps\/backendtlspolicies\/reenc-tls\/status$/,
      ),
      'the BackendTLSPolicy status',
    );
    const ancestors = (written['status'] as { ancestors: { ancestorRef: { sectionName: string } }[] })
      .ancestors;
    assert.deepEqual(
      ancestors.map((a) => a.ancestorRef.sectionName),
      // Traefik's loadTLSRoutes loads the route for each listener of its Gateway, and
      // loadTLSServers records the policy's ancestor for each, attached there or not.
      ['web', 'tcp', 'pass', 'term', 'reenc'],
    );
  });

  it('closes a TLS connection whose SNI no TLSRoute takes, but an HTTPS client`s (Traefik`s deny-unknown-host)', async () => {
    /** What a TLS client offering `alpn` sees with SNI `servername`: its handshake, then the first data or the close. */
    const probe = (servername: string, alpn?: string[]): Promise<string> =>
      new Promise((resolve) => {
        let shook = false;
        const s = tlsConnect({
          port: tlsPort,
          host: '127.0.0.1',
          servername,
          rejectUnauthorized: false,
          ...(alpn === undefined ? {} : { ALPNProtocols: alpn }),
        });
        // A safety net: a connection left open (no router closes it) is reported as such.
        s.setTimeout(5_000, () => {
          resolve('left open');
          s.destroy();
        });
        s.once('secureConnect', () => {
          shook = true;
          s.write(
            alpn === undefined
              ? 'hello'
              : 'GET / HTTP/1.1\r\nHost: unknown.test\r\nConnection: close\r\n\r\n',
          );
        });
        s.once('data', (d: Buffer) => {
          resolve(`data ${d.toString().split('\r\n')[0]}`);
          s.destroy();
        });
        s.once('close', () => resolve(shook ? 'closed after the handshake' : 'closed before the handshake'));
        // Closed or reset: no server takes it.
        s.once('error', () => resolve(shook ? 'closed after the handshake' : 'closed before the handshake'));
      });
    await untilApplied(proxy, 0, async () => (await hello('pass.test', backendPki.ca.certPem)).ok);
    // Its load balancer has no server: closed before the handshake goes on, as Traefik's WRR
    // closes the tls.Conn it is handed before its first read (the handshake).
    assert.equal(await probe('unknown.test'), 'closed before the handshake');
    // An HTTPS client (ALPN http/1.1) is not taken by it: the entry point's HTTPS answers it.
    assert.equal(await probe('unknown.test', ['http/1.1']), 'data HTTP/1.1 404 Not Found');
  });

  it('writes the TCPRoute`s and the Gateway`s statuses as Traefik does', async () => {
    const route = await within(
      kube.waitForWrite(
        /^PUT \/apis\/gateway\.networking\.k8s\.io\/v1\/namespaces\/apps\/tcproutes\/echo\/status$/,
      ),
      'the TCPRoute status',
    );
    const parents = (route['status'] as { parents: { conditions: { type: string; status: string }[] }[] })
      .parents;
    assert.deepEqual(
      parents[0]?.conditions.map((c) => `${c.type}=${c.status}`),
      ['Accepted=True', 'ResolvedRefs=True'],
    );
    const tls = await within(
      kube.waitForWrite(
        /^PUT \/apis\/gateway\.networking\.k8s\.io\/v1\/namespaces\/apps\/tlsroutes\/pass\/status$/,
      ),
      'the TLSRoute status',
    );
    assert.deepEqual(
      (
        tls['status'] as { parents: { conditions: { type: string; status: string }[] }[] }
      ).parents[0]?.conditions.map((c) => `${c.type}=${c.status}`),
      ['Accepted=True', 'ResolvedRefs=True'],
    );
    const gw = await within(kube.waitForWrite(/^PUT .*\/gateways\/gw\/status$/), 'the Gateway status');
    const listeners = (gw['status'] as { listeners: { name: string; attachedRoutes: number }[] }).listeners;
    assert.deepEqual(
      listeners.map((l) => [l.name, l.attachedRoutes]),
      [
        ['web', 1],
        ['tcp', 1],
        ['pass', 1],
        ['term', 1],
        ['reenc', 1],
      ],
    );
  });

  const get = (): Promise<{ status: number; text: string }> =>
    new Promise((resolve, reject) => {
      request({ port: webPort, host: '127.0.0.1', path: '/', agent: false }, (res) => {
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

  it('reaches an HTTPS backend signed by a private CA only with a BackendTLSPolicy', async () => {
    // Without a policy, the backend's certificate is not trusted: 502.
    await untilApplied(proxy, 0, async () => (await get()).status === 502);
    const from = proxy.logs.length;
    const seenFrom = kube.seen.length;
    kube.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'private-ca', namespace: 'apps' },
      data: { 'ca.crt': privatePki.ca.certPem },
    });
    kube.apply({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'BackendTLSPolicy',
      metadata: { name: 'private-tls', namespace: 'apps', generation: 1 },
      spec: {
        targetRefs: [{ group: '', kind: 'Service', name: 'private' }],
        validation: {
          hostname: 'private.internal',
          caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'private-ca' }],
        },
      },
    });
    await untilApplied(proxy, from, async () => (await get()).status === 200);
    assert.deepEqual(await get(), { status: 200, text: 'hello from private' });
    const written = await within(
      kube.waitForWrite(
        /^PUT \/apis\/gateway\.networking\.k8s\.io\/v1\/namespaces\/apps\/backendtlspolicies\/private-tls\/status$/,
        seenFrom,
      ),
      'the BackendTLSPolicy status',
    );
    const ancestors = (
      written['status'] as {
        ancestors: {
          ancestorRef: { name: string; sectionName: string };
          controllerName: string;
          conditions: { type: string; status: string }[];
        }[];
      }
    ).ancestors;
    assert.deepEqual(
      ancestors.map((a) => [
        a.ancestorRef.name,
        a.ancestorRef.sectionName,
        a.controllerName,
        a.conditions.map((c) => `${c.type}=${c.status}`),
      ]),
      // Traefik v3.8's loadHTTPRoutes loads the route for every listener of its parent Gateway
      // (matchingGatewayListenersForParentRef keeps them all), and loadHTTPServers records the
      // policy's ancestor for each: the TCP and TLS listeners too, whatever the sectionName.
      ['web', 'tcp', 'pass', 'term', 'reenc'].map((l) => [
        'gw',
        l,
        'traefik.io/gateway-controller',
        ['ResolvedRefs=True', 'Accepted=True'],
      ]),
    );
  });

  it('authenticates a backend by the policy`s subjectAltNames, the hostname its SNI only (Traefik #13249)', async () => {
    // The backend's certificate names other.internal only; the policy's hostname is the SNI.
    const sansBackend = await startTlsBackend(
      privatePki.issue('other.internal', ['other.internal']),
      'http',
      'sans',
    );
    try {
      const getSans = (): Promise<{ status: number; text: string }> =>
        new Promise((resolve, reject) => {
          request({ port: webPort, host: '127.0.0.1', path: '/sans', agent: false }, (res) => {
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
      const sansPolicy = (san: string) => ({
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'BackendTLSPolicy',
        metadata: { name: 'sans-tls', namespace: 'apps', generation: 1 },
        spec: {
          targetRefs: [{ group: '', kind: 'Service', name: 'sans' }],
          validation: {
            hostname: 'sans.internal',
            caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'sans-ca' }],
            subjectAltNames: [{ type: 'Hostname', hostname: san }],
          },
        },
      });
      const from = proxy.logs.length;
      for (const o of [
        ...backendService('apps', 'sans', 443, sansBackend.port),
        {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'sans-ca', namespace: 'apps' },
          data: { 'ca.crt': privatePki.ca.certPem },
        },
        sansPolicy('other.internal'),
        httpRouteFor('apps', 'sans', {
          parentRefs: [{ name: 'gw', sectionName: 'web' }],
          rules: [
            {
              matches: [{ path: { type: 'PathPrefix', value: '/sans' } }],
              backendRefs: [{ name: 'sans', port: 443 }],
            },
          ],
        }),
      ])
        kube.apply(o);
      // (The `private` route takes every other path: wait for this one's answer.)
      await untilApplied(proxy, from, async () => (await getSans()).text === 'hello from sans');
      assert.deepEqual(await getSans(), { status: 200, text: 'hello from sans' });

      // A SAN the certificate does not carry: the backend is not trusted (502).
      const again = proxy.logs.length;
      kube.apply(sansPolicy('wrong.internal'));
      await untilApplied(proxy, again, async () => (await getSans()).status === 502);
    } finally {
      await sansBackend.close();
    }
  });
});
