/**
 * A Gateway's client certificate validation (Gateway API v1.5 Standard, GEP-91:
 * `spec.tls.frontend.default.validation`) in the real proxy, against the API server on loopback
 * (test/helpers/fake-kube.ts), with real TLS clients: the HTTPS listener's routers require a
 * client certificate signed by the CA of the referenced ConfigMap; a client without one, or with
 * one of another CA, is refused in the handshake; one with a certificate of that CA reaches the
 * backend. A port in AllowInsecureFallback lets every client in. The statuses are written back.
 */
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type FakeKube, startFakeKube } from '../helpers/fake-kube.ts';
import {
  endpointSliceFor,
  gatewayClassFor,
  gatewayFor,
  httpRouteFor,
  secretFor,
  serviceFor,
} from '../helpers/kube-objects.ts';
import { freePort } from '../helpers/pebble.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { type Issued, TestPki } from '../helpers/tls-certs.ts';
import { untilApplied, within } from '../helpers/wait.ts';

describe('Kubernetes Gateway API provider: client certificate validation of a Gateway (e2e, GEP-91)', () => {
  let kube: FakeKube;
  let proxy: ProxyProcess;
  let app: Backend;
  let serverPki: TestPki;
  let clientPki: TestPki;
  let strangerPki: TestPki;
  let client: Issued;
  let stranger: Issued;
  let securePort = 0;
  let fallbackPort = 0;
  let wildPort = 0;

  before(async () => {
    serverPki = new TestPki('Gateway CA');
    clientPki = new TestPki('Client CA');
    strangerPki = new TestPki('Other CA');
    const server = serverPki.issue('a.example', ['a.example', 'b.example', 'x.w.example', 'x.y.w.example']);
    client = clientPki.issue('client', []);
    stranger = strangerPki.issue('stranger', []);
    [kube, app, securePort, fallbackPort, wildPort] = await Promise.all([
      startFakeKube(),
      startBackend((_req, res) => res.end('app')),
      freePort(),
      freePort(),
      freePort(),
    ]);
    const gw = gatewayFor('shop', 'gw', [
      {
        name: 'https',
        port: securePort,
        protocol: 'HTTPS',
        hostname: 'a.example',
        tls: { certificateRefs: [{ name: 'cert' }] },
      },
      {
        name: 'fallback',
        port: fallbackPort,
        protocol: 'HTTPS',
        hostname: 'b.example',
        tls: { certificateRefs: [{ name: 'cert' }] },
      },
      {
        name: 'wild',
        port: wildPort,
        protocol: 'HTTPS',
        hostname: '*.w.example',
        tls: { certificateRefs: [{ name: 'cert' }] },
      },
    ]);
    (gw['spec'] as Record<string, unknown>)['tls'] = {
      frontend: {
        default: { validation: { caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'client-ca' }] } },
        perPort: [
          {
            port: fallbackPort,
            tls: {
              validation: {
                caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'client-ca' }],
                mode: 'AllowInsecureFallback',
              },
            },
          },
        ],
      },
    };
    for (const o of [
      serviceFor('shop', 'app'),
      endpointSliceFor('shop', 'app', ['127.0.0.1'], app.port),
      secretFor('shop', 'cert', { 'tls.crt': server.certPem, 'tls.key': server.keyPem }),
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'client-ca', namespace: 'shop' },
        data: { 'ca.crt': clientPki.ca.certPem },
      },
      gatewayClassFor(),
      gw,
      httpRouteFor('shop', 'app', {
        parentRefs: [{ name: 'gw' }],
        rules: [{ backendRefs: [{ name: 'app', port: 80 }] }],
      }),
    ])
      kube.apply(o);
    proxy = await startProxy({
      config: `entryPoints:
  websecure:
    address: "127.0.0.1:${securePort}"
  fallback:
    address: "127.0.0.1:${fallbackPort}"
  wild:
    address: "127.0.0.1:${wildPort}"
log: { level: INFO }
providers:
  providersThrottleDuration: 50ms
  kubernetesGateway:
    endpoint: "${kube.url}"
    token: test-token
`,
    });
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all([kube?.close(), app?.close()]);
    for (const p of [serverPki, clientPki, strangerPki]) p?.remove();
  });

  /** GET / over TLS to a.example: the status, or the error that ended the exchange. */
  const call = (
    cert?: Issued,
    port = securePort,
    host = 'a.example',
  ): Promise<{ status?: number; body?: string; error?: string }> =>
    new Promise((resolve) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          servername: host,
          headers: { host },
          path: '/',
          ca: serverPki.ca.certPem,
          ...(cert !== undefined ? { cert: cert.certPem, key: cert.keyPem } : {}),
          agent: false,
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            body += c;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.setTimeout(5_000, () => req.destroy(new Error('timeout')));
      req.on('error', (e) => resolve({ error: e.message }));
      req.end();
    });

  it('serves a client whose certificate the referenced CA ConfigMap signed', async () => {
    await untilApplied(proxy, 0, async () => (await call(client)).status === 200);
    assert.deepEqual(await call(client), { status: 200, body: 'app' });
  });

  it('refuses a client without a certificate, or with one of another CA, in the handshake', async () => {
    await untilApplied(proxy, 0, async () => (await call(client)).status === 200);
    const seen = app.seen.length;
    const without = await call();
    assert.equal(without.status, undefined, JSON.stringify(without));
    assert.ok(without.error !== undefined);
    const other = await call(stranger);
    assert.equal(other.status, undefined, JSON.stringify(other));
    assert.equal(app.seen.length, seen, 'no request reached the backend');
  });

  it('lets every client in on a port in AllowInsecureFallback, and says so in the Gateway`s status', async () => {
    await untilApplied(
      proxy,
      0,
      async () => (await call(undefined, fallbackPort, 'b.example')).status === 200,
    );
    assert.deepEqual(await call(undefined, fallbackPort, 'b.example'), { status: 200, body: 'app' });
    assert.deepEqual(await call(stranger, fallbackPort, 'b.example'), { status: 200, body: 'app' });
    assert.deepEqual(await call(client, fallbackPort, 'b.example'), { status: 200, body: 'app' });
  });

  it('asks the clients of a wildcard listener`s names, nested ones too, for a certificate (Traefik v3.8 Host("**.w.example"))', async () => {
    await untilApplied(proxy, 0, async () => (await call(client, wildPort, 'x.y.w.example')).status === 200);
    const seen = app.seen.length;
    assert.deepEqual(await call(client, wildPort, 'x.w.example'), { status: 200, body: 'app' });
    for (const host of ['x.w.example', 'x.y.w.example']) {
      const without = await call(undefined, wildPort, host);
      assert.equal(without.status, undefined, `${host}: ${JSON.stringify(without)}`);
    }
    assert.equal(app.seen.length, seen + 1, 'only the client with a certificate reached the backend');
  });

  it('writes the listener`s conditions: accepted, resolved, programmed', async () => {
    const gw = await within(kube.waitForWrite(/^PUT .*\/gateways\/gw\/status$/), 'the Gateway status');
    const listeners = (
      gw['status'] as { listeners: { name: string; conditions: { type: string; status: string }[] }[] }
    ).listeners;
    assert.deepEqual(
      listeners[0]?.conditions.map((c) => `${c.type}=${c.status}`),
      ['Accepted=True', 'ResolvedRefs=True', 'Programmed=True'],
    );
    const conditions = (gw['status'] as { conditions: { type: string; status: string; reason: string }[] })
      .conditions;
    assert.ok(
      conditions.some(
        (c) =>
          c.type === 'InsecureFrontendValidationMode' &&
          c.status === 'True' &&
          c.reason === 'ConfigurationChanged',
      ),
      JSON.stringify(conditions),
    );
  });
});
