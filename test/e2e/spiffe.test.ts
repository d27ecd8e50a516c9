/**
 * SPIFFE (Traefik: static `spiffe.workloadAPIAddr`, cmd/traefik/traefik.go setupServer's
 * workloadapi.NewX509Source; serversTransports' `spiffe`, pkg/server/service/transport.go
 * createTLSConfig and pkg/tcp/dialer.go DialerManager.Build with go-spiffe's
 * tlsconfig.MTLSClientConfig). A fake Workload API (a real gRPC server on a unix socket) hands the
 * proxy its X.509 SVID; real TLS backends on loopback require a client certificate from the trust
 * domain's CA and say which SPIFFE ID it carries. Through the real proxy process.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createServer as createTlsServer, type TLSSocket, type Server as TlsServer } from 'node:tls';
import { FakeWorkloadApi, type FakeWorkloadState } from '../helpers/fake-workload-api.ts';
import { httpRequest } from '../helpers/http-request.ts';
import { requireTool, tcpExchange } from '../helpers/l4.ts';
import { startProxy } from '../helpers/proxy-process.ts';
import { type Issued, TestPki } from '../helpers/tls-certs.ts';

/** The URI SAN of the client certificate a TLS socket was given. */
function clientId(s: TLSSocket): string {
  const san = s.getPeerCertificate().subjectaltname ?? '';
  return /URI:([^,]+)/.exec(san)?.[1] ?? 'none';
}

function listen<T extends HttpsServer | TlsServer>(server: T): Promise<T> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const portOf = (s: HttpsServer | TlsServer): number => (s.address() as AddressInfo).port;

describe('spiffe', () => {
  let td: TestPki;
  let foreign: TestPki;
  let api: FakeWorkloadApi;
  let web: HttpsServer;
  let stranger: HttpsServer;
  let impostor: HttpsServer;
  let db: TlsServer;
  let state: FakeWorkloadState;

  /** An HTTPS server that wants a client certificate from `ca` and answers with its SPIFFE ID. */
  const backend = (cert: Issued, ca: string): Promise<HttpsServer> =>
    listen(
      createHttpsServer(
        { cert: cert.certPem, key: cert.keyPem, ca, requestCert: true, rejectUnauthorized: true },
        (req, res) => {
          res.setHeader('connection', 'close');
          res.end(`client ${clientId(req.socket as TLSSocket)}`);
        },
      ),
    );

  before(async () => {
    requireTool('/usr/bin/openssl', 'openssl');
    td = new TestPki('example.org CA');
    foreign = new TestPki('other.org CA');
    state = {
      svids: [
        {
          spiffeId: 'spiffe://example.org/proxy',
          cert: td.issue('proxy', ['spiffe://example.org/proxy']),
          bundle: [td.ca.certPem],
        },
      ],
      federated: { 'spiffe://other.org': [foreign.ca.certPem] },
    };
    api = await FakeWorkloadApi.start(state);
    // The names are not the proxy's concern: no hostname is checked, only the SPIFFE ID.
    web = await backend(td.issue('web', ['unrelated.test', 'spiffe://example.org/web']), td.ca.certPem);
    stranger = await backend(foreign.issue('x', ['spiffe://other.org/web']), td.ca.certPem);
    // example.org's CA signed an other.org ID: its chain is valid, but not to other.org's bundle.
    impostor = await backend(td.issue('imp', ['spiffe://other.org/web']), td.ca.certPem);
    const dbCert = td.issue('db', ['spiffe://example.org/db']);
    db = await listen(
      createTlsServer(
        {
          cert: dbCert.certPem,
          key: dbCert.keyPem,
          ca: td.ca.certPem,
          requestCert: true,
          rejectUnauthorized: true,
        },
        (s) => {
          s.on('data', (d: Buffer) => s.write(`${clientId(s)} ${d.toString()}`));
          s.on('end', () => s.end());
        },
      ),
    );
  });
  after(async () => {
    web.close();
    stranger.close();
    impostor.close();
    db.close();
    await api.close();
  });

  const config = (transports: string, extra = '') => `entryPoints:
  web:
    address: "127.0.0.1:0"
  db:
    address: "127.0.0.1:0"
log: { level: DEBUG }
spiffe:
  workloadAPIAddr: "${api.addr}"
${extra}
http:
  routers:
    ok: { rule: "PathPrefix(\`/ok\`)", service: ok, entryPoints: [web] }
    wrongid: { rule: "PathPrefix(\`/wrongid\`)", service: wrongid, entryPoints: [web] }
    member: { rule: "PathPrefix(\`/member\`)", service: member, entryPoints: [web] }
    othertd: { rule: "PathPrefix(\`/othertd\`)", service: othertd, entryPoints: [web] }
    stranger: { rule: "PathPrefix(\`/stranger\`)", service: stranger, entryPoints: [web] }
    default: { rule: "PathPrefix(\`/default\`)", service: default, entryPoints: [web] }
    impostor: { rule: "PathPrefix(\`/impostor\`)", service: impostor, entryPoints: [web] }
  services:
    ok: { loadBalancer: { servers: [{ url: "https://127.0.0.1:${portOf(web)}" }], serversTransport: ok } }
    wrongid: { loadBalancer: { servers: [{ url: "https://127.0.0.1:${portOf(web)}" }], serversTransport: wrongid } }
    member: { loadBalancer: { servers: [{ url: "https://127.0.0.1:${portOf(web)}" }], serversTransport: member } }
    othertd: { loadBalancer: { servers: [{ url: "https://127.0.0.1:${portOf(web)}" }], serversTransport: othertd } }
    stranger: { loadBalancer: { servers: [{ url: "https://127.0.0.1:${portOf(stranger)}" }], serversTransport: any } }
    default: { loadBalancer: { servers: [{ url: "https://127.0.0.1:${portOf(web)}" }] } }
    impostor: { loadBalancer: { servers: [{ url: "https://127.0.0.1:${portOf(impostor)}" }], serversTransport: any } }
  serversTransports:
    ok: { spiffe: { ids: ["spiffe://example.org/web"] } }
    wrongid: { spiffe: { ids: ["spiffe://example.org/api"] } }
    member: { spiffe: { trustDomain: example.org } }
    othertd: { spiffe: { trustDomain: "spiffe://other.org" } }
    any: { spiffe: {} }
${transports}
tcp:
  routers:
    db: { rule: "HostSNI(\`*\`)", service: db, entryPoints: [db] }
  services:
    db: { loadBalancer: { servers: [{ address: "127.0.0.1:${portOf(db)}", tls: true }], serversTransport: db } }
  serversTransports:
    db: { tls: { spiffe: { ids: ["spiffe://example.org/db"] } } }
`;

  it('presents the SVID to HTTP servers and checks their SPIFFE ID (ids, trustDomain, bundles)', async (t) => {
    const proxy = await startProxy({
      config: config('', 'serversTransport: { spiffe: { trustDomain: example.org } }'),
    });
    t.after(() => proxy.stop());
    const port = proxy.ports['web']!;
    assert.ok(api.calls >= 1 && api.refused === 0, 'the proxy sent the security header');
    const ok = await httpRequest(port, { path: '/ok' });
    assert.equal(ok.status, 200);
    assert.equal(ok.text, 'client spiffe://example.org/proxy');
    assert.equal((await httpRequest(port, { path: '/member' })).status, 200);
    // The static serversTransport's spiffe is the default of services that name no transport.
    assert.equal((await httpRequest(port, { path: '/default' })).text, 'client spiffe://example.org/proxy');
    // Another ID than the allowed ones, a server outside the allowed trust domain: 502.
    assert.equal((await httpRequest(port, { path: '/wrongid' })).status, 502);
    assert.equal((await httpRequest(port, { path: '/othertd' })).status, 502);
    // other.org's server: its chain ends at other.org's federated bundle, and `spiffe: {}`
    // accepts any ID.
    assert.equal((await httpRequest(port, { path: '/stranger' })).status, 200);
    // An other.org ID whose chain ends at example.org's CA (x509svid.Verify: the bundle of the
    // ID's trust domain).
    assert.equal((await httpRequest(port, { path: '/impostor' })).status, 502);
  });

  it('refuses a server whose chain ends at no bundle of its trust domain', async (t) => {
    // Without the federated bundle, other.org's server cannot be verified.
    api.rotate({ svids: state.svids });
    t.after(() => api.rotate(state));
    const proxy = await startProxy({ config: config('') });
    t.after(() => proxy.stop());
    assert.equal((await httpRequest(proxy.ports['web']!, { path: '/stranger' })).status, 502);
  });

  it('presents the SVID to TCP servers (tls.spiffe) and checks their ID', async (t) => {
    const proxy = await startProxy({ config: config('') });
    t.after(() => proxy.stop());
    const r = await tcpExchange(proxy.ports['db']!, 'ping', { untilData: 'ping' });
    assert.equal(r.data.toString(), 'spiffe://example.org/proxy ping');
  });

  it('follows a rotation: new connections present the new SVID', async (t) => {
    const proxy = await startProxy({ config: config('') });
    t.after(() => proxy.stop());
    const port = proxy.ports['web']!;
    assert.equal((await httpRequest(port, { path: '/ok' })).text, 'client spiffe://example.org/proxy');
    const next: FakeWorkloadState = {
      ...state,
      svids: [
        {
          spiffeId: 'spiffe://example.org/proxy-next',
          cert: td.issue('proxy-next', ['spiffe://example.org/proxy-next']),
          bundle: [td.ca.certPem],
        },
      ],
    };
    api.rotate(next);
    t.after(() => api.rotate(state));
    await proxy.waitForLog((l) => l.msg === 'SPIFFE: X.509 SVID updated');
    // Each answer closes its connection: the next request dials again, with the new SVID.
    assert.equal((await httpRequest(port, { path: '/ok' })).text, 'client spiffe://example.org/proxy-next');
  });

  it('waits for the Workload API before opening anything, retrying until it answers', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'tm-spiffe-late-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const socket = join(dir, 'agent.sock');
    const proxy = await startProxy({
      config: config('').replace(api.addr, `unix://${socket}`),
      entryPoints: 0,
      waitForConfig: false,
    });
    t.after(() => proxy.stop());
    await proxy.waitForLog((l) => l.msg === 'SPIFFE: Workload API unavailable, retrying');
    assert.ok(!proxy.logs.some((l) => l.msg === 'entry point listening'), 'nothing opened before the SVID');
    const late = await FakeWorkloadApi.start(state, socket);
    t.after(() => late.close());
    const listening = await proxy.waitForLog(
      (l) => l.msg === 'entry point listening' && l['entryPoint'] === 'web',
    );
    await proxy.waitForLog((l) => l.msg === 'configuration applied');
    const port = Number(String(listening['address']).split(':').pop());
    assert.equal((await httpRequest(port, { path: '/ok' })).text, 'client spiffe://example.org/proxy');
  });

  it('refuses transports that mix spiffe with other TLS keys, or spiffe without workloadAPIAddr', async (t) => {
    const proxy = await startProxy({
      config: config(`    mixed: { spiffe: {}, insecureSkipVerify: true }`).replace(
        'ok: { loadBalancer: { servers: [{ url: "https://127.0.0.1:',
        'mixedsvc: { loadBalancer: { servers: [{ url: "https://127.0.0.1:1" }], serversTransport: mixed } }\n    ok: { loadBalancer: { servers: [{ url: "https://127.0.0.1:',
      ),
    });
    t.after(() => proxy.stop());
    await proxy.waitForLog((l) =>
      JSON.stringify(l).includes('TLS and SPIFFE configuration cannot be defined at the same time'),
    );
    // The rest is served.
    assert.equal((await httpRequest(proxy.ports['web']!, { path: '/ok' })).status, 200);

    const bare = await startProxy({
      config: config('').replace(`spiffe:\n  workloadAPIAddr: "${api.addr}"\n`, ''),
    });
    t.after(() => bare.stop());
    await bare.waitForLog((l) =>
      JSON.stringify(l).includes('SPIFFE is enabled for this transport, but not configured'),
    );
    assert.equal((await httpRequest(bare.ports['web']!, { path: '/ok' })).status, 404);
  });
});
