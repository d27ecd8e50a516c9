/**
 * Consul Connect through the real proxy (the Consul Catalog provider with connectAware) against a
 * Consul API on loopback (test/helpers/fake-consul.ts) whose Connect roots and leaf a test CA made:
 * a Connect service is reached through its sidecar (from /v1/health/connect, not the service's own
 * instance) over mTLS, the proxy presenting the leaf of its serviceName and checking the sidecar's
 * SPIFFE ID; a sidecar presenting another service's ID gets the client a classified 502; a service
 * without Connect stays plain HTTP; a rotated leaf and changed roots reach the transport by
 * blocking queries while a request in flight on another route completes.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { type Issued, TestPki } from '../../src/upstream/test-pki.ts';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type FakeConsul, startFakeConsul } from '../helpers/fake-consul.ts';
import { type LogLine, type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { gate, waitForLogFrom } from '../helpers/wait.ts';

const TRUST_DOMAIN = '5e1d6a2c-0000-4000-8000-000000000001.consul';
const spiffe = (svc: string): string => `spiffe://${TRUST_DOMAIN}/ns/default/dc/dc1/svc/${svc}`;

interface MtlsBackend {
  readonly port: number;
  close(): Promise<void>;
}

/** A sidecar as Envoy is one: TLS with the given certificate, a client certificate of the CA required. */
async function sidecar(name: string, cert: Issued, ca: string): Promise<MtlsBackend> {
  const sockets = new Set<Socket>();
  const server = createServer(
    { key: cert.keyPem, cert: cert.certPem, ca, requestCert: true, rejectUnauthorized: true },
    (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      const cn = (peer.subject as { CN?: string } | undefined)?.CN;
      res.end(`${name} ${req.url} client=${cn} uri=${peer.subjectaltname}`);
    },
  );
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('tlsClientError', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

describe('Consul Connect (e2e, Consul API on loopback, mTLS sidecars)', () => {
  let ca: TestPki;
  let otherCa: TestPki;
  let leaf: Issued;
  let web: MtlsBackend;
  let impostor: MtlsBackend;
  let direct: Backend;
  let plain: Backend;
  let consul: FakeConsul;
  let proxy: ProxyProcess;
  let port = 0;
  const slow = gate();

  before(async () => {
    ca = new TestPki('Consul Connect CA');
    otherCa = new TestPki('Other Connect CA');
    leaf = ca.issue('traefik', [spiffe('traefik')]);
    [web, impostor, direct, plain, consul] = await Promise.all([
      sidecar('web-sidecar', ca.issue('web', [spiffe('web')]), ca.ca.certPem),
      // A sidecar of `pay` whose certificate, from the same CA, says it is `db`.
      sidecar('pay-sidecar', ca.issue('db', [spiffe('db')]), ca.ca.certPem),
      startBackend((req, res) => res.end(`direct ${req.url}`)),
      startBackend(async (req, res) => {
        if (req.url === '/plain/slow') await slow.promise;
        res.end(`plain ${req.url}`);
      }),
      startFakeConsul(),
    ]);
    consul.setConnectRoots([ca.ca.certPem], TRUST_DOMAIN);
    consul.setConnectLeaf('traefik', leaf.certPem, leaf.keyPem);
    const connect = (rule: string): string[] => [
      'traefik.enable=true',
      'traefik.consulcatalog.connect=true',
      `traefik.http.routers.${rule}.rule=PathPrefix(\`/${rule}\`)`,
    ];
    // The service's own instance answers plain HTTP: reaching it would mean Connect was bypassed.
    consul.register({
      id: 'web-1',
      name: 'web',
      address: '127.0.0.1',
      port: direct.port,
      tags: connect('web'),
    });
    consul.register({
      id: 'web-1-sidecar-proxy',
      name: 'web-sidecar-proxy',
      kind: 'connect-proxy',
      destination: 'web',
      address: '127.0.0.1',
      port: web.port,
      tags: connect('web'),
    });
    consul.register({
      id: 'pay-1',
      name: 'pay',
      connectNative: true,
      address: '127.0.0.1',
      port: impostor.port,
      tags: connect('pay'),
    });
    consul.register({
      id: 'plain-1',
      name: 'plain',
      address: '127.0.0.1',
      port: plain.port,
      tags: ['traefik.enable=true', 'traefik.http.routers.plain.rule=PathPrefix(`/plain`)'],
    });
    proxy = await startProxy({
      entryPoints: 1,
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
providers:
  providersThrottleDuration: 50ms
  consulCatalog:
    watch: true
    exposedByDefault: false
    connectAware: true
    serviceName: traefik
    endpoint:
      address: "${consul.endpoint}"
`,
    });
    port = proxy.ports['web'] ?? 0;
    await proxy.waitForLog((l) => l.msg === 'configuration applied');
  });

  after(async () => {
    slow.open();
    await proxy?.stop();
    await Promise.all([web?.close(), impostor?.close(), direct?.close(), plain?.close(), consul?.close()]);
    ca?.remove();
    otherCa?.remove();
  });

  const get = async (path: string): Promise<{ status: number; text: string }> => {
    const r = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: r.status, text: await r.text() };
  };
  /** Re-checks after each applied configuration until `check` holds (a few at most). */
  const until = async (from: number, check: () => Promise<boolean>): Promise<void> => {
    let at = from;
    for (let i = 0; i < 6; i++) {
      if (await check()) return;
      const l = await waitForLogFrom(proxy, at, (x: LogLine) => x.msg === 'configuration applied');
      at = proxy.logs.indexOf(l) + 1;
    }
    assert.ok(await check(), 'the change was not applied');
  };

  it('reaches a Connect service through its sidecar over mTLS with the leaf of serviceName', async () => {
    const r = await get('/web/a');
    assert.equal(r.status, 200, r.text);
    assert.match(r.text, /^web-sidecar \/web\/a client=traefik uri=URI:spiffe:\/\/.*\/svc\/traefik$/);
  });

  it('keeps a service without Connect on plain HTTP', async () => {
    assert.deepEqual(await get('/plain/x'), { status: 200, text: 'plain /plain/x' });
  });

  it('answers 502 when the instance presents another SPIFFE ID, and logs why', async () => {
    const from = proxy.logs.length;
    const r = await get('/pay/1');
    assert.equal(r.status, 502);
    const line = await waitForLogFrom(proxy, from, (l) => l.msg === 'request failed' && l.path === '/pay/1');
    assert.equal(line.code, 'UPSTREAM_TLS_PEER_URI');
    assert.match(String(line.detail ?? line.error ?? ''), /svc\/db, want spiffe:\/\/.*\/svc\/pay/);
  });

  it('follows the roots and the leaf by blocking queries, without dropping a request on another route', async () => {
    // A request in flight on the plain route across both rotations.
    const inFlight = get('/plain/slow');
    let from = proxy.logs.length;
    // New roots that do not hold the sidecars' CA: the Connect service fails, untrusted.
    consul.setConnectRoots([otherCa.ca.certPem], TRUST_DOMAIN);
    await until(from, async () => (await get('/web/b')).status === 502);
    const untrusted = await waitForLogFrom(
      proxy,
      from,
      (l) => l.msg === 'request failed' && l.path === '/web/b',
    );
    assert.equal(untrusted.code, 'UPSTREAM_TLS_UNTRUSTED');
    from = proxy.logs.length;
    consul.setConnectRoots([otherCa.ca.certPem, ca.ca.certPem], TRUST_DOMAIN);
    await until(from, async () => (await get('/web/c')).status === 200);
    // A rotated leaf: the sidecar now sees the new client certificate.
    from = proxy.logs.length;
    const rotated = ca.issue('traefik-rotated', [spiffe('traefik')]);
    consul.setConnectLeaf('traefik', rotated.certPem, rotated.keyPem);
    await until(from, async () => (await get('/web/d')).text.includes('client=traefik-rotated'));
    slow.open();
    assert.deepEqual(await inFlight, { status: 200, text: 'plain /plain/slow' });
    assert.deepEqual(await get('/plain/y'), { status: 200, text: 'plain /plain/y' });
    const blocking = (path: string) =>
      consul.seen.some((s) => s.startsWith(`GET ${path}?index=`) && s.includes('wait=5m'));
    assert.ok(blocking('/v1/agent/connect/ca/roots'), consul.seen.join('\n'));
    assert.ok(blocking('/v1/agent/connect/ca/leaf/traefik'), consul.seen.join('\n'));
    assert.ok(consul.seen.some((s) => s.startsWith('GET /v1/health/connect/web')));
  });
});
