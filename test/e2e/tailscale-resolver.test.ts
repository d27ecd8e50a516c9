import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { handshake, TestPki } from '../helpers/tls-certs.ts';

/*
 * Traefik's Tailscale certificate resolver (`certificatesResolvers.<name>.tailscale`,
 * pkg/provider/tailscale): the certificates of the routers' `*.ts.net` names come from the local
 * tailscaled's LocalAPI (tscert's CertPair: GET /localapi/v0/cert/<domain>?type=pair on its
 * unix socket, the key's PEM then the chain's). Here a fake tailscaled on a socket found through
 * TM_TAILSCALED_SOCKET.
 */
describe('certificatesResolvers.<name>.tailscale', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-e2e-tailscale-'));
  const socket = join(dir, 'tailscaled.sock');
  const seen: string[] = [];
  let pki: TestPki;
  let tailscaled: Server;
  let backend: Backend;
  let proxy: ProxyProcess;
  const name = 'web.tailnet-1234.ts.net';

  before(async () => {
    pki = new TestPki();
    const leaf = pki.issue(name, [name]);
    tailscaled = createServer((req, res) => {
      seen.push(`${req.method} ${req.url} host=${req.headers.host}`);
      if (req.url === `/localapi/v0/cert/${name}?type=pair`) {
        res.writeHead(200, { 'content-type': 'text/plain' }).end(`${leaf.keyPem}${leaf.certPem}`);
        return;
      }
      res.writeHead(500).end('no cert for that name\n');
    });
    await new Promise<void>((r) => tailscaled.listen(socket, r));
    backend = await startBackend((_req, res) => res.end('tailnet'));
    proxy = await startProxy({
      config: `entryPoints:
  websecure:
    address: "127.0.0.1:0"
    http: { tls: {} }
certificatesResolvers:
  ts:
    tailscale: {}
http:
  routers:
    tailnet: { rule: "Host(\`${name}\`)", service: app, tls: { certResolver: ts } }
    public: { rule: "Host(\`app.example.com\`)", service: app, tls: { certResolver: ts } }
  services:
    app: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`,
      env: { TM_TAILSCALED_SOCKET: socket },
    });
  });

  after(async () => {
    await proxy?.stop();
    await backend?.close();
    await new Promise<void>((r) => tailscaled.close(() => r()));
    pki?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves the certificate tailscaled gives for the router's Tailscale name", async () => {
    await proxy.waitForLog((l) => l.msg === 'certificate fetched from tailscaled' && l.domain === name);
    let h = await handshake({ port: proxy.ports['websecure']!, servername: name, ca: pki.ca.certPem });
    // The rebuild that installs it follows the fetch.
    for (let i = 0; i < 50 && (!h.ok || !h.authorized); i++) {
      await new Promise((r) => setTimeout(r, 100));
      h = await handshake({ port: proxy.ports['websecure']!, servername: name, ca: pki.ca.certPem });
    }
    assert.ok(h.ok, h.ok ? '' : h.error);
    assert.equal(h.subjectCN, name);
    assert.equal(h.authorized, true, h.authorizationError ?? '');
    assert.ok(
      seen.includes(`GET /localapi/v0/cert/${name}?type=pair host=local-tailscaled.sock`),
      seen.join('\n'),
    );
  });

  it('asks nothing for a name that is not a Tailscale one, and says so', async () => {
    await proxy.waitForLog((l) => l.msg === 'Domain app.example.com is not a valid Tailscale domain');
    assert.ok(!seen.some((s) => s.includes('app.example.com')));
  });
});

/*
 * Traefik's purgeUnusedCerts (pkg/provider/tailscale/provider.go, watchDomains): at each
 * configuration, the certificates of names that no router uses any more are dropped; until this
 * was followed here, they stayed served until a restart.
 */
describe('certificatesResolvers.<name>.tailscale: a name no router uses any more', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-e2e-tailscale-purge-'));
  const socket = join(dir, 'tailscaled.sock');
  const kept = 'kept.tailnet-1234.ts.net';
  const gone = 'gone.tailnet-1234.ts.net';
  let pki: TestPki;
  let tailscaled: Server;
  let backend: Backend;
  let proxy: ProxyProcess;

  const dynamic = (names: readonly string[]): string => `http:
  routers:
${names.map((n, i) => `    r${i}: { rule: "Host(\`${n}\`)", service: app, tls: { certResolver: ts } }`).join('\n')}
  services:
    app: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`;

  /** The subject CN the proxy presents for `servername`, once it is `want` (or the last seen). */
  async function presented(servername: string, want: (cn: string | undefined) => boolean): Promise<string> {
    let cn: string | undefined;
    for (let i = 0; i < 100; i++) {
      const h = await handshake({ port: proxy.ports['websecure']!, servername, ca: pki.ca.certPem });
      cn = h.ok ? h.subjectCN : undefined;
      if (want(cn)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    return String(cn);
  }

  before(async () => {
    pki = new TestPki();
    const leaves = new Map([kept, gone].map((n) => [n, pki.issue(n, [n])]));
    tailscaled = createServer((req, res) => {
      const name = /^\/localapi\/v0\/cert\/([^?]+)\?type=pair$/.exec(req.url ?? '')?.[1];
      const leaf = name === undefined ? undefined : leaves.get(name);
      if (leaf === undefined) res.writeHead(500).end('no cert for that name\n');
      else res.writeHead(200).end(`${leaf.keyPem}${leaf.certPem}`);
    });
    await new Promise<void>((r) => tailscaled.listen(socket, r));
    backend = await startBackend((_req, res) => res.end('tailnet'));
    proxy = await startProxy({
      config: `entryPoints:
  websecure:
    address: "127.0.0.1:0"
    http: { tls: {} }
log: { level: INFO }
certificatesResolvers:
  ts:
    tailscale: {}
providers:
  file: { filename: dyn.yaml, watch: true }
`,
      files: { 'dyn.yaml': dynamic([kept, gone]) },
      env: { TM_TAILSCALED_SOCKET: socket },
    });
  });

  after(async () => {
    await proxy?.stop();
    await backend?.close();
    await new Promise<void>((r) => tailscaled.close(() => r()));
    pki?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stops serving its certificate and keeps the others', async () => {
    assert.equal(await presented(gone, (cn) => cn === gone), gone);
    assert.equal(await presented(kept, (cn) => cn === kept), kept);

    const next = join(proxy.dir, 'dyn.yaml.next');
    writeFileSync(next, dynamic([kept]));
    renameSync(next, join(proxy.dir, 'dyn.yaml'));
    await proxy.waitForLog(
      (l) => l.msg === 'certificate dropped: no router uses its name any more' && l.domain === gone,
    );
    // The default certificate now answers for that name.
    assert.notEqual(await presented(gone, (cn) => cn !== gone), gone);
    assert.equal(await presented(kept, () => true), kept);
  });
});
