/**
 * TLS to backends through the real proxy process: `https://` servers behind serversTransports
 * (serverName, rootCAs as files and inline PEM, client certificates, insecureSkipVerify), against
 * real node:https servers on 127.0.0.1 whose certificates openssl makes for the test. A server
 * with a bad certificate gets the client a 502 and the log line the reason.
 */
import assert from 'node:assert/strict';
import { createServer, type ServerOptions } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { type Issued, TestPki } from '../../src/upstream/test-pki.ts';
import { curl } from '../helpers/curl.ts';
import { type LogLine, type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

interface TlsBackend {
  readonly port: number;
  /** TLS connections the server accepted: SNI and the client certificate's CN. */
  readonly handshakes: { servername: string | false | null; clientCN: string | undefined }[];
  /** Requests served. */
  readonly requests: string[];
  close(): Promise<void>;
}

async function tlsBackend(name: string, opts: ServerOptions): Promise<TlsBackend> {
  const handshakes: TlsBackend['handshakes'] = [];
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer(opts, (req, res) => {
    requests.push(req.url ?? '');
    res.end(`${name} ${req.url}`);
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('secureConnection', (s: TLSSocket) => {
    const subject = s.getPeerCertificate().subject as { CN?: string } | undefined;
    handshakes.push({ servername: s.servername, clientCN: subject?.CN });
  });
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    handshakes,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A YAML block scalar holding `text`, indented for a list item at `indent` spaces. */
function pemBlock(text: string, indent: number): string {
  const pad = ' '.repeat(indent + 2);
  return `|\n${text
    .trimEnd()
    .split('\n')
    .map((l) => pad + l)
    .join('\n')}`;
}

function failedLine(proxy: ProxyProcess, path: string): Promise<LogLine> {
  return proxy.waitForLog((l) => l.msg === 'request failed' && l.path === path);
}

describe('TLS to backends', () => {
  let pki: TestPki;
  let good: Issued;
  let internalOnly: Issued;
  let expired: Issued;
  let selfSigned: Issued;
  let client: Issued;
  const backends: Record<string, TlsBackend> = {};
  let proxy: ProxyProcess;
  let base: string;

  before(async () => {
    pki = new TestPki();
    good = pki.issue('backend', ['127.0.0.1', 'backend.test']);
    internalOnly = pki.issue('api', ['api.internal']);
    expired = pki.issue('old', ['127.0.0.1'], { expired: true });
    selfSigned = pki.selfSigned('alone', ['127.0.0.1']);
    client = pki.issue('traffic-proxy', []);
    const serve = (i: Issued): ServerOptions => ({ key: i.keyPem, cert: i.certPem });
    const mtls: ServerOptions = {
      ...serve(good),
      ca: pki.ca.certPem,
      requestCert: true,
      rejectUnauthorized: true,
    };
    const specs: Record<string, ServerOptions> = {
      trusted: serve(good),
      named: serve(internalOnly),
      wronghost: serve(internalOnly),
      expired: serve(expired),
      unknown: serve(selfSigned),
      insecure: serve(selfSigned),
      mtls,
      nocert: mtls,
    };
    for (const [name, o] of Object.entries(specs)) backends[name] = await tlsBackend(name, o);
    const route = (name: string, transport: string) => `    ${name}:
      loadBalancer:
        serversTransport: ${transport}
        servers: [{ url: "https://127.0.0.1:${backends[name]!.port}" }]
`;
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
http:
  routers:
${Object.keys(specs)
  .map((n) => `    ${n}: { rule: "PathPrefix(\`/${n}/\`)", service: ${n} }\n`)
  .join('')}
  serversTransports:
    private-ca:
      rootCAs: ["${pki.ca.certFile}"]
    internal:
      serverName: api.internal
      rootCAs: ["${pki.ca.certFile}"]
    skip:
      insecureSkipVerify: true
    client-cert:
      rootCAs:
        - ${pemBlock(pki.ca.certPem, 8)}
      certificates:
        - certFile: "${client.certFile}"
          keyFile: "${client.keyFile}"
      minVersion: VersionTLS12
      maxVersion: VersionTLS13
  services:
${route('trusted', 'private-ca')}${route('named', 'internal')}${route('wronghost', 'private-ca')}${route('expired', 'private-ca')}${route('unknown', 'private-ca')}${route('insecure', 'skip')}${route('mtls', 'client-cert')}${route('nocert', 'private-ca')}`,
    });
    base = `http://127.0.0.1:${proxy.port}`;
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all(Object.values(backends).map((b) => b.close()));
    pki?.remove();
  });

  it('proxies to a trusted https server and keeps the TLS connection alive between requests', async () => {
    const urls = Array.from({ length: 5 }, (_, i) => `${base}/trusted/${i}`);
    const r = await curl(urls);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.deepEqual(
      r.transfers.map((t) => t.status),
      [200, 200, 200, 200, 200],
    );
    assert.equal(r.body.toString(), urls.map((_, i) => `trusted /trusted/${i}`).join(''));
    assert.equal(backends.trusted!.handshakes.length, 1, 'one TLS connection served every request');
    assert.equal(backends.trusted!.handshakes[0]!.servername, false, 'no SNI for an IP server');
  });

  it('sends serverName as SNI and accepts the certificate that names it', async () => {
    const r = await curl([`${base}/named/x`]);
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'named /named/x');
    assert.equal(backends.named!.handshakes[0]!.servername, 'api.internal');
  });

  it('answers 502 when the certificate does not name the server, and logs why', async () => {
    const r = await curl([`${base}/wronghost/x`]);
    assert.equal(r.status, 502);
    const line = await failedLine(proxy, '/wronghost/x');
    assert.equal(line.code, 'UPSTREAM_TLS_HOSTNAME');
    assert.equal(line.status, 502);
    assert.match(String(line.detail), /does not match "127\.0\.0\.1": it is for DNS:api\.internal/);
    assert.equal(line.server, `https://127.0.0.1:${backends.wronghost!.port}`);
    assert.deepEqual(backends.wronghost!.requests, [], 'no request reached the server');
  });

  it('answers 502 for an expired certificate, and logs why', async () => {
    const r = await curl([`${base}/expired/x`]);
    assert.equal(r.status, 502);
    const line = await failedLine(proxy, '/expired/x');
    assert.equal(line.code, 'UPSTREAM_TLS_CERT_EXPIRED');
    assert.match(String(line.detail), /certificate has expired/);
    assert.deepEqual(backends.expired!.requests, []);
  });

  it('answers 502 for a certificate from an unknown CA, and logs why', async () => {
    const r = await curl([`${base}/unknown/x`]);
    assert.equal(r.status, 502);
    const line = await failedLine(proxy, '/unknown/x');
    assert.equal(line.code, 'UPSTREAM_TLS_UNTRUSTED');
    assert.match(String(line.detail), /not trusted.*self-signed certificate/);
    assert.deepEqual(backends.unknown!.requests, []);
  });

  it('takes `serversTransport: default@internal` as the static serversTransport (Traefik’s internal provider)', async () => {
    // pkg/provider/traefik/internal.go serverTransport: `default@internal` is the static one.
    const proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
serversTransport:
  rootCAs: ["${pki.ca.certFile}"]
http:
  routers:
    r: { rule: "PathPrefix(\`/\`)", service: s }
  services:
    s:
      loadBalancer:
        serversTransport: default@internal
        servers: [{ url: "https://127.0.0.1:${backends.trusted!.port}" }]
`,
    });
    try {
      const r = await curl([`http://127.0.0.1:${proxy.port}/trusted/internal`]);
      assert.equal(r.status, 200, 'the static rootCAs trust the backend');
      assert.equal(r.body.toString(), 'trusted /trusted/internal');
      assert.equal(proxy.logs.filter((l) => l.msg === 'configuration error').length, 0);
    } finally {
      await proxy.stop();
    }
  });

  it('accepts any certificate with insecureSkipVerify, and warns once that it does', async () => {
    const r = await curl([`${base}/insecure/a`, `${base}/insecure/b`]);
    assert.deepEqual(
      r.transfers.map((t) => t.status),
      [200, 200],
    );
    const warning = await proxy.waitForLog(
      (l) => l.level === 'warn' && /insecureSkipVerify/.test(String(l.msg)),
    );
    assert.equal(warning.serversTransport, 'skip@file');
    assert.equal(
      proxy.logs.filter((l) => l.level === 'warn' && /insecureSkipVerify/.test(String(l.msg))).length,
      1,
    );
  });

  it('presents the transport’s client certificate to a server that requires one', async () => {
    const r = await curl([`${base}/mtls/x`]);
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'mtls /mtls/x');
    assert.equal(backends.mtls!.handshakes[0]!.clientCN, 'traffic-proxy');
  });

  it('answers 502 when a server requires a client certificate the transport lacks', async () => {
    const r = await curl([`${base}/nocert/x`]);
    assert.equal(r.status, 502);
    const line = await failedLine(proxy, '/nocert/x');
    assert.equal(line.code, 'UPSTREAM_TLS_HANDSHAKE');
    assert.match(String(line.detail), /requires a client certificate/);
    assert.deepEqual(backends.nocert!.requests, []);
  });
});

describe('TLS to backends: configuration errors', () => {
  let pki: TestPki;

  before(() => {
    pki = new TestPki();
  });

  after(() => pki?.remove());

  it('disables a transport whose client key does not match its certificate, naming the key', async () => {
    const a = pki.issue('a', ['a.test']);
    const b = pki.issue('b', ['b.test']);
    const proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
http:
  routers:
    r: { rule: "PathPrefix(\`/\`)", service: s }
  serversTransports:
    mixed:
      certificates: [{ certFile: "${a.certFile}", keyFile: "${b.keyFile}" }]
  services:
    s:
      loadBalancer:
        serversTransport: mixed
        servers: [{ url: "https://127.0.0.1:1" }]
`,
    });
    try {
      // The transport is disabled with what needs it (service s, router r), the rest applies.
      const line = await proxy.waitForLog((l) => l.msg === 'configuration error');
      assert.match(
        String(line.issue),
        /:9:\d+: http\.serversTransports\.mixed\.certificates\[0\]\.keyFile: the key does not match the certificate/,
      );
      const applied = await proxy.waitForLog((l) => l.msg === 'configuration applied');
      assert.equal(applied.disabled, 3);
    } finally {
      await proxy.stop();
    }
  });
});
