/**
 * Traefik v3.8's double wildcard host (traefik/traefik#13882): ``Host(`**.example.com`)`` matches
 * every subdomain of example.com, nested ones included (pkg/muxer DomainMatchHostExpression), its
 * default priority counts its stars out (GetRulePriority, DoubleWildcardPenalty) so the single
 * wildcard and the exact hosts it covers win, and it carries TLS options to the server names under it.
 */
import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { httpRequest } from '../helpers/http-request.ts';
import { startEchoServer, type TcpBackend } from '../helpers/l4.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { type Issued, TestPki } from '../helpers/tls-certs.ts';

describe('Host(`**.example.com`): Traefik v3.8 double wildcard', () => {
  let pki: TestPki;
  let cert: Issued;
  let client: Issued;
  let deep: Backend;
  let one: Backend;
  let exact: Backend;
  let echo: TcpBackend;
  let deepEcho: TcpBackend;
  let proxy: ProxyProcess;

  before(async () => {
    pki = new TestPki('double wildcard CA');
    cert = pki.issue('d.test', ['*.d.test', '*.b.m.test', '*.m.test', 'other.test', 'a.b.tcp.test']);
    client = pki.issue('client', []);
    deep = await startBackend((_req, res) => res.end('deep'));
    one = await startBackend((_req, res) => res.end('one'));
    exact = await startBackend((_req, res) => res.end('exact'));
    echo = await startEchoServer();
    deepEcho = await startEchoServer('deep:');
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  websecure:
    address: "127.0.0.1:0"
  traefik:
    address: "127.0.0.1:0"
api: {}
http:
  routers:
    deep: { entryPoints: [web], rule: "Host(\`**.d.test\`)", service: deep }
    one: { entryPoints: [web], rule: "Host(\`*.d.test\`)", service: one }
    exact: { entryPoints: [web], rule: "Host(\`x.d.test\`)", service: exact }
    secure: { entryPoints: [websecure], rule: "Host(\`**.m.test\`)", service: deep, tls: { options: mtls } }
  services:
    deep: { loadBalancer: { servers: [{ url: "${deep.url}" }] } }
    one: { loadBalancer: { servers: [{ url: "${one.url}" }] } }
    exact: { loadBalancer: { servers: [{ url: "${exact.url}" }] } }
tcp:
  routers:
    rest: { entryPoints: [websecure], rule: "HostSNI(\`*\`)", service: echo, tls: {} }
    deep: { entryPoints: [websecure], rule: "HostSNI(\`**.tcp.test\`)", service: deepEcho, tls: {} }
  services:
    # The client ends with its ping: the echo needs a termination delay (0 without a transport).
    echo: { loadBalancer: { servers: [{ address: "${echo.address}" }], serversTransport: patient } }
    deepEcho: { loadBalancer: { servers: [{ address: "${deepEcho.address}" }], serversTransport: patient } }
  serversTransports:
    patient: { terminationDelay: 30s }
tls:
  certificates:
    - { certFile: c.pem, keyFile: c.key }
  options:
    mtls:
      clientAuth:
        caFiles: [ca.pem]
        clientAuthType: RequireAndVerifyClientCert
`,
      files: { 'c.pem': cert.certPem, 'c.key': cert.keyPem, 'ca.pem': pki.ca.certPem },
    });
  });

  after(async () => {
    await proxy?.stop('SIGTERM', 3_000);
    await Promise.all([deep?.close(), one?.close(), exact?.close(), echo?.close(), deepEcho?.close()]);
    pki?.remove();
  });

  const get = async (host: string): Promise<string> => {
    const r = await httpRequest(proxy.ports['web']!, { headers: { host } });
    return `${r.status} ${r.status === 200 ? r.text : ''}`.trim();
  };

  it('matches one label or more under the suffix, never the suffix itself', async () => {
    assert.equal(await get('a.b.d.test'), '200 deep');
    assert.equal(await get('z.y.x.d.test'), '200 deep');
    assert.equal(await get('d.test'), '404');
    assert.equal(await get('ad.test'), '404');
  });

  it('ranks below the single wildcard and the exact host it covers (its stars do not count)', async () => {
    assert.equal(await get('y.d.test'), '200 one');
    assert.equal(await get('x.d.test'), '200 exact');
  });

  it('shows the default priority Traefik computes in the API', async () => {
    const routers = JSON.parse(
      (await httpRequest(proxy.ports['traefik']!, { path: '/api/http/routers' })).text,
    ) as {
      name: string;
      priority: number;
    }[];
    const p = (n: string): number | undefined => routers.find((r) => r.name === `${n}@file`)?.priority;
    assert.equal(p('deep'), 'Host(`**.d.test`)'.length - 2);
    assert.equal(p('one'), 'Host(`*.d.test`)'.length);
  });

  /** One HTTPS request: its status and body, or the error's code when the connection failed. */
  const h1 = (servername: string, withCert: boolean): Promise<string> =>
    new Promise((resolve) => {
      httpsRequest(
        {
          port: proxy.ports['websecure']!,
          host: '127.0.0.1',
          path: '/',
          servername,
          headers: { host: servername },
          ca: pki.ca.certPem,
          ...(withCert ? { cert: client.certPem, key: client.keyPem } : {}),
          agent: false,
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (d: string) => {
            body += d;
          });
          res.on('end', () => resolve(`${res.statusCode} ${body}`));
        },
      )
        .on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message))
        .end();
    });

  it('takes the TLS connections of the names under it, with its TLS options (client certificates)', async () => {
    assert.equal(await h1('a.b.m.test', true), '200 deep');
    assert.equal(await h1('q.m.test', true), '200 deep');
    assert.notEqual(await h1('a.b.m.test', false), '200 deep', 'no client certificate');
  });

  /** `ping` over TLS with SNI `servername`, ended: what came back. */
  const tlsPing = (servername: string): Promise<string> =>
    new Promise<string>((resolve, reject) => {
      const s = tlsConnect({
        host: '127.0.0.1',
        port: proxy.ports['websecure']!,
        servername,
        ca: pki.ca.certPem,
      });
      let got = '';
      s.on('secureConnect', () => s.end('ping'));
      s.setEncoding('utf8').on('data', (d: string) => {
        got += d;
      });
      s.on('error', reject);
      s.on('close', () => resolve(got));
    });

  it('leaves the other server names to the TCP catch-all', async () => {
    assert.equal(await tlsPing('other.test'), 'ping');
  });

  it('routes a TCP router`s HostSNI(`**.tcp.test`) on the names under it (Traefik v3.8, #13882)', async () => {
    assert.equal(await tlsPing('a.b.tcp.test'), 'deep:ping');
  });
});
