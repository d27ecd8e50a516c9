/**
 * Traefik's entry point `allowACMEByPass`: the ACME challenges give way to the configuration's
 * routers there. http-01: the internal router for `/.well-known/acme-challenge/` loses its top
 * priority (pkg/provider/traefik/internal.go acme(), `acme-http-bypass`), so a router for those
 * paths takes them; tls-alpn-01: a ClientHello offering `acme-tls/1` goes through the TCP routers
 * (pkg/server/routerfactory.go EnableACMETLSPassthrough). Elsewhere the proxy answers both itself,
 * but for tls-alpn-01 only when a resolver uses tlsChallenge: without one, every entry point lets
 * acme-tls/1 through (NewRouterFactory: `ep.AllowACMEByPass || !handlesTLSChallenge`).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { connect } from 'node:tls';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

describe('entryPoints.<name>.allowACMEByPass', () => {
  let app: Backend;
  let passthrough: Server;
  let passthroughPort: number;
  /** ClientHellos the passthrough server received. */
  const hellos: Buffer[] = [];
  let proxy: ProxyProcess;

  before(async () => {
    app = await startBackend((req, res) => res.end(`app ${req.url}`));
    passthrough = createServer((s) => {
      s.once('data', (d: Buffer) => {
        hellos.push(d);
        s.destroy();
      });
      s.on('error', () => {});
    });
    passthrough.listen(0, '127.0.0.1');
    await once(passthrough, 'listening');
    passthroughPort = (passthrough.address() as AddressInfo).port;
    proxy = await startProxy({
      config: `entryPoints:
  bypass:
    address: "127.0.0.1:0"
    allowACMEByPass: true
  strict:
    address: "127.0.0.1:0"
log: { level: DEBUG }
certificatesResolvers:
  one:
    acme:
      caServer: "https://127.0.0.1:1/dir"
      httpChallenge: { entryPoint: bypass }
  two:
    acme:
      caServer: "https://127.0.0.1:1/dir"
      httpChallenge: { entryPoint: strict }
  alpn:
    acme:
      caServer: "https://127.0.0.1:1/dir"
      tlsChallenge: {}
http:
  routers:
    challenges:
      rule: "PathPrefix(\`/.well-known/acme-challenge/\`) && Method(\`GET\`)"
      service: app
  services:
    app: { loadBalancer: { servers: [{ url: "${app.url}" }] } }
tcp:
  routers:
    alpn:
      rule: "HostSNI(\`acme.test\`)"
      service: passthrough
      tls: { passthrough: true }
  services:
    passthrough: { loadBalancer: { servers: [{ address: "127.0.0.1:${passthroughPort}" }] } }
`,
    });
  });
  after(async () => {
    await proxy?.stop();
    await app.close();
    passthrough.close();
  });

  it('lets a router of the configuration answer http-01 paths on that entry point', async () => {
    const r = await fetch(`http://127.0.0.1:${proxy.ports['bypass']!}/.well-known/acme-challenge/tok`);
    assert.equal(r.status, 200);
    assert.equal(await r.text(), 'app /.well-known/acme-challenge/tok');
  });

  it('answers http-01 paths itself on an entry point without it', async () => {
    const seen = app.seen.length;
    const r = await fetch(`http://127.0.0.1:${proxy.ports['strict']!}/.well-known/acme-challenge/tok`);
    assert.equal(r.status, 404);
    assert.equal(app.seen.length, seen);
  });

  const offerAcmeTls = async (port: number): Promise<void> => {
    const s = connect({
      host: '127.0.0.1',
      port,
      servername: 'acme.test',
      ALPNProtocols: ['acme-tls/1'],
      rejectUnauthorized: false,
    });
    s.on('error', () => {});
    // Not events.once: it rejects on the 'error' a reset connection emits first.
    await new Promise((resolve) => s.on('close', resolve));
  };

  it('routes a ClientHello offering acme-tls/1 through the TCP routers on that entry point', async () => {
    const before = hellos.length;
    await offerAcmeTls(proxy.ports['bypass']!);
    assert.equal(hellos.length, before + 1);
    assert.ok(hellos.at(-1)!.includes('acme-tls/1'));
  });

  it('keeps acme-tls/1 for itself on an entry point without it', async () => {
    const before = hellos.length;
    await offerAcmeTls(proxy.ports['strict']!);
    assert.equal(hellos.length, before);
  });
});

describe('acme-tls/1 without a tlsChallenge resolver', () => {
  let passthrough: Server;
  const hellos: Buffer[] = [];
  let proxy: ProxyProcess;

  before(async () => {
    passthrough = createServer((s) => {
      s.once('data', (d: Buffer) => {
        hellos.push(d);
        s.destroy();
      });
      s.on('error', () => {});
    });
    passthrough.listen(0, '127.0.0.1');
    await once(passthrough, 'listening');
    const port = (passthrough.address() as AddressInfo).port;
    // No allowACMEByPass, and the only resolver answers http-01: Traefik routes acme-tls/1
    // ClientHellos like any other (a backend behind a passthrough router solves its own tls-alpn-01).
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
certificatesResolvers:
  one:
    acme:
      caServer: "https://127.0.0.1:1/dir"
      httpChallenge: { entryPoint: web }
tcp:
  routers:
    alpn:
      rule: "HostSNI(\`acme.test\`)"
      service: passthrough
      tls: { passthrough: true }
  services:
    passthrough: { loadBalancer: { servers: [{ address: "127.0.0.1:${port}" }] } }
`,
    });
  });
  after(async () => {
    await proxy?.stop();
    passthrough.close();
  });

  it('routes a ClientHello offering acme-tls/1 through the TCP routers', async () => {
    const s = connect({
      host: '127.0.0.1',
      port: proxy.ports['web']!,
      servername: 'acme.test',
      ALPNProtocols: ['acme-tls/1'],
      rejectUnauthorized: false,
    });
    s.on('error', () => {});
    await new Promise((resolve) => s.on('close', resolve));
    assert.equal(hellos.length, 1);
    assert.ok(hellos[0]!.includes('acme-tls/1'));
  });
});
