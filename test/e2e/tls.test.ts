/**
 * TLS termination through the real proxy process, with real clients: curl (HTTP/1.1 and HTTP/2
 * by ALPN, client certificates, redirects), `openssl s_client` (protocol versions), sslscan
 * (what the default options offer), h2load (load over h2) and node:tls where a test must see the
 * presented certificate or write HTTP by hand. Certificates come from throwaway CAs (openssl) and
 * src/tls/x509, written into the proxy's folder; node:http backends behind.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { readdirSync, readlinkSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { curl } from '../helpers/curl.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import {
  handshake,
  type Issued,
  run,
  sClient,
  selfSignedCertificate,
  sslscan,
  TestPki,
  tlsRawRequest,
} from '../helpers/tls-certs.ts';
import { toolPath } from '../helpers/tools.ts';
import { waitForLogFrom } from '../helpers/wait.ts';

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Echoes what arrived: method, url, fields and the body's length and hash. */
function echo(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (d: Buffer) => chunks.push(d));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    res.setHeader('content-type', 'application/json');
    res.setHeader('x-backend', 'echo');
    res.end(
      JSON.stringify({
        method: req.method,
        url: req.url,
        headers: req.headers,
        bodyLength: body.length,
        bodySha256: sha256(body),
      }),
    );
  });
}

interface Echoed {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly bodyLength: number;
  readonly bodySha256: string;
}

/** Writes `bytes` on a plain TCP connection and collects what comes back until the server closes. */
function rawExchange(port: number, bytes: Buffer): Promise<{ reply: Buffer; closed: string }> {
  return new Promise((resolve) => {
    const s = netConnect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let closed = 'timeout';
    const timer = setTimeout(() => s.destroy(), 10_000);
    s.on('connect', () => s.write(bytes));
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('end', () => {
      closed = 'end';
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      closed = e.code ?? e.message;
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ reply: Buffer.concat(chunks), closed });
    });
  });
}

/** Sockets the process holds open (Linux): listeners, client and backend connections. */
function socketFds(pid: number): number {
  let n = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) n++;
    } catch {
      // closed between the listing and the read
    }
  }
  return n;
}

/** curl `--resolve` arguments sending `host` on each of `ports` to 127.0.0.1. */
function resolveArgs(host: string, ...ports: number[]): string[] {
  return ports.flatMap((p) => ['--resolve', `${host}:${p}:127.0.0.1`]);
}

/**
 * One HTTP/1.1 request on a new TLS connection, offering `session` when given. Returns whether the
 * server resumed it and the ticket it handed out (TLS 1.3 sends tickets after the handshake).
 */
function resumable(
  port: number,
  servername: string,
  ca: string,
  session?: Buffer,
): Promise<{ reused: boolean; status: string; session: Buffer | undefined }> {
  return new Promise((resolve, reject) => {
    let ticket: Buffer | undefined;
    let reply = '';
    let reused = false;
    const s = tlsConnect({ host: '127.0.0.1', port, servername, ca, ...(session ? { session } : {}) }, () => {
      // Read at once: after close the handle, and the answer, are gone.
      reused = s.isSessionReused();
      s.write(`GET /resume HTTP/1.1\r\nHost: ${servername}\r\nConnection: close\r\n\r\n`);
    });
    s.on('session', (b: Buffer) => {
      ticket ??= b;
    });
    s.setEncoding('latin1');
    s.on('data', (c: string) => {
      reply += c;
    });
    s.setTimeout(5_000, () => s.destroy(new Error('timed out')));
    s.on('error', reject);
    s.on('close', () => resolve({ reused, status: reply.split('\r\n')[0] ?? '', session: ticket }));
  });
}

/**
 * A TLS 1.2 `openssl s_client` session that asks for a renegotiation (`R` on its stdin) once the
 * handshake is through; resolves with everything it printed.
 */
function renegotiate(port: number, servername: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      toolPath('openssl'),
      ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', servername, '-tls1_2'],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let out = '';
    let asked = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const add = (d: string): void => {
      out += d;
      // s_client's session report ends with `---` once the handshake is done.
      if (!asked && /Extended master secret: \w+\n---\n/.test(out)) {
        asked = true;
        child.stdin.write('R\n');
      } else if (asked && /no renegotiation|alert|errno/.test(out)) child.stdin.end();
    };
    child.stdout.setEncoding('utf8').on('data', add);
    child.stderr.setEncoding('utf8').on('data', add);
    child.on('error', (e) => reject(new Error(`openssl: ${e.message} (apt-get install -y openssl)`)));
    child.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

/** The second proxy's dynamic file: one router, the a.test certificate, default options strict or not. */
function dynamicB(sniStrict: boolean, backendUrl = 'http://127.0.0.1:9'): string {
  return `http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: be }
  services:
    be: { loadBalancer: { servers: [{ url: "${backendUrl}" }] } }
tls:
  certificates:
    - { certFile: a.pem, keyFile: a.key }
${sniStrict ? '  options:\n    default: { sniStrict: true }\n' : ''}`;
}

describe('TLS termination', () => {
  let pki: TestPki;
  let clientPki: TestPki;
  let roguePki: TestPki;
  let certA: Issued;
  let certB: Issued;
  let certWild: Issued;
  let client: Issued;
  let rogue: Issued;
  const configuredDefault = selfSignedCertificate(['default.test'], { commonName: 'Configured Default' });
  let backend: Backend;
  let proxy: ProxyProcess;
  let web: number;
  let tls: number;
  /** A second proxy: no default certificate configured, options from a watched file provider. */
  let plain: ProxyProcess;
  let resumeTicket: Buffer | undefined;

  before(async () => {
    pki = new TestPki('Server CA');
    clientPki = new TestPki('Client CA');
    roguePki = new TestPki('Rogue CA');
    certA = pki.issue('a.test', ['a.test']);
    certB = pki.issue('b.test', ['b.test']);
    certWild = pki.issue('wild', ['*.wild.test']);
    client = clientPki.issue('good-client', []);
    rogue = roguePki.issue('rogue-client', []);
    backend = await startBackend(echo);
    const starting = startProxy({
      config: `entryPoints:
  websecure:
    address: "127.0.0.1:0"
    http:
      tls: {}
    transport: { lifeCycle: { graceTimeOut: 1s } }
log: { level: DEBUG }
providers:
  file: { filename: dyn.yaml }
`,
      files: { 'dyn.yaml': dynamicB(false), 'a.pem': certA.certPem, 'a.key': certA.keyPem },
    });
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
    http:
      redirections:
        entryPoint: { to: websecure }
    transport: { lifeCycle: { graceTimeOut: 1s } }
  websecure:
    # Ephemeral: the redirect's Location must carry the port actually bound.
    address: "127.0.0.1:0"
    http:
      tls: {}
    transport: { lifeCycle: { graceTimeOut: 1s } }
log: { level: DEBUG }
http:
  routers:
    a: { rule: "Host(\`a.test\`)", service: be }
    b: { rule: "Host(\`b.test\`)", service: be, tls: { options: mtls } }
    all: { rule: "PathPrefix(\`/\`)", priority: 1, service: be }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
tls:
  certificates:
    - { certFile: a.pem, keyFile: a.key }
    - { certFile: b.pem, keyFile: b.key }
    - { certFile: wild.pem, keyFile: wild.key }
  options:
    mtls:
      clientAuth:
        caFiles: [client-ca.pem]
        clientAuthType: RequireAndVerifyClientCert
  stores:
    default:
      defaultCertificate: { certFile: default.pem, keyFile: default.key }
`,
      files: {
        'a.pem': certA.certPem,
        'a.key': certA.keyPem,
        'b.pem': certB.certPem,
        'b.key': certB.keyPem,
        'wild.pem': certWild.certPem,
        'wild.key': certWild.keyPem,
        'default.pem': configuredDefault.certPem,
        'default.key': configuredDefault.keyPem,
        'client-ca.pem': clientPki.ca.certPem,
      },
    });
    plain = await starting;
    web = proxy.ports['web']!;
    tls = proxy.ports['websecure']!;
    for (const p of [proxy, plain]) {
      const applied = p.logs.find((l) => l.msg === 'configuration applied');
      assert.ok(applied, `configuration not applied:\n${JSON.stringify(p.logs)}`);
    }
  });

  after(async () => {
    // Bounded: a proxy that ignores SIGTERM is reported by the shutdown test, not waited for here.
    await proxy?.stop('SIGTERM', 3_000);
    await plain?.stop('SIGTERM', 3_000);
    await backend?.close();
    pki?.remove();
    clientPki?.remove();
    roguePki?.remove();
  });

  const clientCert = (): { cert: string; key: string } => ({ cert: client.certPem, key: client.keyPem });
  const https = (host: string, path = '/'): string[] => [
    '--cacert',
    pki.ca.certFile,
    ...resolveArgs(host, tls),
    `https://${host}:${tls}${path}`,
  ];

  describe('HTTP over TLS', () => {
    const body = Buffer.alloc(200_000, 'tls-body-');
    for (const version of ['--http1.1', '--http2'] as const) {
      it(`carries a request body and fields intact over ${version.slice(2)} and tells the backend the proto is https`, async () => {
        const r = await curl(
          [
            version,
            '-X',
            'POST',
            '-H',
            'X-Custom: one, two',
            '-H',
            'Content-Type: application/octet-stream',
            '--data-binary',
            '@-',
            ...https('a.test', '/echo?x=1'),
          ],
          { stdin: body },
        );
        assert.equal(r.exitCode, 0, r.stderr);
        assert.equal(r.status, 200);
        assert.equal(r.transfers[0]!.info['http_version'], version === '--http2' ? '2' : '1.1');
        assert.deepEqual(r.headers['x-backend'], ['echo']);
        const e = JSON.parse(r.body.toString()) as Echoed;
        assert.equal(e.method, 'POST');
        assert.equal(e.url, '/echo?x=1');
        assert.equal(e.bodyLength, body.length);
        assert.equal(e.bodySha256, sha256(body));
        assert.equal(e.headers['x-custom'], 'one, two');
        assert.equal(e.headers['x-forwarded-proto'], 'https');
        assert.equal(e.headers['x-forwarded-port'], String(tls));
      });
    }
  });

  describe('certificate selection by SNI', () => {
    it('presents the certificate whose name matches the SNI, a wildcard for its subdomains', async () => {
      const a = await handshake({ port: tls, servername: 'a.test', ca: pki.ca.certPem });
      assert.ok(a.ok, JSON.stringify(a));
      assert.equal(a.subjectCN, 'a.test');
      assert.equal(a.authorized, true, String(a.authorizationError));
      const b = await handshake({ port: tls, servername: 'b.test', ca: pki.ca.certPem, ...clientCert() });
      assert.ok(b.ok, JSON.stringify(b));
      assert.equal(b.subjectCN, 'b.test');
      const w = await handshake({ port: tls, servername: 'x.wild.test', ca: pki.ca.certPem });
      assert.ok(w.ok, JSON.stringify(w));
      assert.equal(w.subjectCN, 'wild');
      assert.equal(w.authorized, true, String(w.authorizationError));
      // A wildcard covers one label only (RFC 6125 6.4.3).
      const deep = await handshake({ port: tls, servername: 'y.x.wild.test', ca: pki.ca.certPem });
      assert.ok(deep.ok, JSON.stringify(deep));
      assert.equal(deep.subjectCN, 'Configured Default');
    });

    it('presents the configured default certificate for an unknown SNI and for no SNI', async () => {
      const unknown = await handshake({ port: tls, servername: 'unknown.test' });
      assert.ok(unknown.ok, JSON.stringify(unknown));
      assert.equal(unknown.subjectCN, 'Configured Default');
      const none = await handshake({ port: tls });
      assert.ok(none.ok, JSON.stringify(none));
      assert.equal(none.subjectCN, 'Configured Default');
    });

    it('presents the generated TRAEFIK DEFAULT CERT when no default certificate is configured', async () => {
      for (const servername of ['unknown.test', undefined]) {
        const h = await handshake({ port: plain.port, ...(servername === undefined ? {} : { servername }) });
        assert.ok(h.ok, JSON.stringify(h));
        assert.equal(h.subjectCN, 'TRAEFIK DEFAULT CERT');
        // Traefik's DefaultCertificate name, which tools made for Traefik recognize.
        assert.match(h.subjectAltName, /^DNS:[0-9a-f]{32}\.[0-9a-f]{32}\.traefik\.default$/);
        assert.equal(h.authorized, false);
      }
      const a = await handshake({ port: plain.port, servername: 'a.test', ca: pki.ca.certPem });
      assert.ok(a.ok, JSON.stringify(a));
      assert.equal(a.subjectCN, 'a.test');
    });

    it('resumes TLS sessions across a reload that keeps the options, as before it', async () => {
      const first = await resumable(plain.port, 'a.test', pki.ca.certPem);
      assert.ok(first.session, 'a session ticket was sent');
      const again = await resumable(plain.port, 'a.test', pki.ca.certPem, first.session);
      assert.equal(again.reused, true, 'resumed before any reload');
      const seen = plain.logs.length;
      plain.writeFile('dyn.yaml', dynamicB(false, backend.url));
      const outcome = await waitForLogFrom(
        plain,
        seen,
        (l) => l.msg === 'configuration applied' || l.msg === 'configuration rejected',
      );
      assert.equal(outcome.msg, 'configuration applied', JSON.stringify(outcome));
      const after = await resumable(plain.port, 'a.test', pki.ca.certPem, first.session);
      assert.equal(after.reused, true, 'the reload kept the ticket keys of unchanged options');
      assert.match(after.status, /^HTTP\/1\.1 200 /);
      resumeTicket = first.session;
    });

    it('refuses an unknown SNI and no SNI once the default options turn sniStrict on (file reload)', async () => {
      const seen = plain.logs.length;
      plain.writeFile('dyn.yaml', dynamicB(true, backend.url));
      const outcome = await waitForLogFrom(
        plain,
        seen,
        (l) => l.msg === 'configuration applied' || l.msg === 'configuration rejected',
      );
      assert.equal(outcome.msg, 'configuration applied', JSON.stringify(outcome));
      const unknown = await handshake({ port: plain.port, servername: 'unknown.test' });
      assert.equal(unknown.ok, false, JSON.stringify(unknown));
      const none = await handshake({ port: plain.port });
      assert.equal(none.ok, false, JSON.stringify(none));
      const known = await curl([
        '--cacert',
        pki.ca.certFile,
        ...resolveArgs('a.test', plain.port),
        `https://a.test:${plain.port}/strict`,
      ]);
      assert.equal(known.exitCode, 0, known.stderr);
      assert.equal(known.status, 200);
      // A ticket from the old policy does not resume under the new one (it would skip its checks).
      if (resumeTicket !== undefined) {
        const stale = await resumable(plain.port, 'a.test', pki.ca.certPem, resumeTicket);
        assert.equal(stale.reused, false, 'a changed policy gets a full handshake');
      }
    });

    it('leaves out a certificate it cannot read and serves the others, as Traefik (file reload)', async () => {
      // Traefik's tlsmanager UpdateConfigs logs "Unable to append certificate" and goes on; a
      // broken defaultCertificate leaves the generated one.
      const seen = plain.logs.length;
      plain.writeFile(
        'dyn.yaml',
        `${dynamicB(false, backend.url)}    - { certFile: gone.pem, keyFile: gone.key }
  stores:
    default:
      defaultCertificate: { certFile: gone-default.pem, keyFile: a.key }
`,
      );
      const outcome = await waitForLogFrom(
        plain,
        seen,
        (l) => l.msg === 'configuration applied' || l.msg === 'configuration rejected',
      );
      assert.equal(outcome.msg, 'configuration applied', JSON.stringify(plain.logs.slice(seen)));
      const errors = plain.logs
        .slice(seen)
        .filter((l) => l.msg === 'configuration error')
        .map((l) => String(l['issue']));
      assert.ok(
        errors.some((e) => /tls\.certificates\[1\]\.certFile: .*gone\.pem/.test(e)),
        JSON.stringify(errors),
      );
      assert.ok(
        errors.some((e) => /tls\.stores\.default\.defaultCertificate\.certFile: .*gone-default\.pem/.test(e)),
        JSON.stringify(errors),
      );
      const known = await curl([
        '--cacert',
        pki.ca.certFile,
        ...resolveArgs('a.test', plain.port),
        `https://a.test:${plain.port}/still`,
      ]);
      assert.equal(known.exitCode, 0, known.stderr);
      assert.equal(known.status, 200);
    });
  });

  describe('certificate chains', () => {
    it('logs once, as a warning, that a certificate file lacks the chain to a known root', () => {
      // a.pem holds the leaf only; its CA is a throwaway one. The reloads above kept the file.
      const chain = plain.logs.filter(
        (l) =>
          l.msg === 'configuration warning' &&
          /tls\.certificates\[0\]: a\.pem: the chain does not reach a known root: add the intermediate/.test(
            String(l['issue']),
          ),
      );
      assert.equal(chain.length, 1, JSON.stringify(plain.logs.filter((l) => l.level === 'warn')));
      assert.equal(chain[0]!.level, 'warn');
      assert.match(String(chain[0]!['issue']), /issuer "CN=Server CA"/);
    });
  });

  describe('default TLS options', () => {
    it('negotiates h2 or http/1.1 by ALPN as openssl s_client asks, and refuses a protocol it does not speak', async () => {
      // Without -brief: s_client prints the ALPN outcome only in its full report.
      const alpn = (offer: string[]) =>
        run('openssl', ['s_client', '-connect', `127.0.0.1:${tls}`, '-servername', 'a.test', ...offer]);
      const h2 = await alpn(['-alpn', 'h2,http/1.1']);
      assert.equal(h2.code, 0, h2.out);
      assert.match(h2.out, /^ALPN protocol: h2$/m, h2.out);
      const h1 = await alpn(['-alpn', 'http/1.1']);
      assert.equal(h1.code, 0, h1.out);
      assert.match(h1.out, /^ALPN protocol: http\/1\.1$/m, h1.out);
      // RFC 7301 §3.2: no protocol in common is a no_application_protocol alert (as Go answers).
      const other = await alpn(['-alpn', 'spdy/3']);
      assert.notEqual(other.code, 0, other.out);
      assert.match(other.out, /no application protocol/i, other.out);
      // A client that offers no ALPN at all is served (HTTP/1.1).
      const none = await alpn([]);
      assert.equal(none.code, 0, none.out);
      assert.match(none.out, /^No ALPN negotiated$/m, none.out);
    });

    it('refuses TLS 1.1 and negotiates TLS 1.2 and TLS 1.3 (openssl s_client)', async () => {
      // SECLEVEL=0 so that the client itself is willing to speak TLS 1.1: the refusal is the server's.
      const old = await sClient(tls, ['-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0', '-servername', 'a.test']);
      assert.notEqual(old.code, 0, old.out);
      assert.equal(old.protocol, null, old.out);
      for (const [flag, version] of [
        ['-tls1_2', 'TLSv1.2'],
        ['-tls1_3', 'TLSv1.3'],
      ] as const) {
        const r = await sClient(tls, [flag, '-servername', 'a.test']);
        assert.equal(r.code, 0, r.out);
        assert.equal(r.protocol, version, r.out);
        assert.match(r.cipher ?? '', /GCM|CHACHA20/, r.out);
      }
    });

    it("passes sslscan: TLS 1.2 and 1.3 only, AEAD suites only, no renegotiation, no compression, Go's groups", async () => {
      const r = await sslscan(tls, 'a.test');
      assert.deepEqual(
        Object.fromEntries(r.protocols),
        {
          SSLv2: false,
          SSLv3: false,
          'TLSv1.0': false,
          'TLSv1.1': false,
          'TLSv1.2': true,
          'TLSv1.3': true,
        },
        r.xml,
      );
      assert.ok(
        r.ciphers.some((c) => c.startsWith('TLSv1.2 ')),
        r.xml,
      );
      assert.ok(
        r.ciphers.some((c) => c.startsWith('TLSv1.3 ')),
        r.xml,
      );
      // AEAD only: GCM, CHACHA20-POLY1305 or CCM; nothing CBC, RC4, NULL or export.
      assert.deepEqual(
        r.ciphers.filter((c) => !/GCM|CHACHA20|CCM/.test(c)),
        [],
        r.xml,
      );
      // Neither secure (RFC 5746) nor insecure renegotiation: a client cannot start one at all.
      assert.deepEqual(r.renegotiation, { supported: false, secure: false }, r.xml);
      // sslscan reports compression only when its OpenSSL can offer it (Debian's cannot).
      assert.notEqual(r.compression, true, r.xml);
      assert.deepEqual(
        r.heartbleed.filter((v) => v),
        [],
        r.xml,
      );
      // Go's default groups (Traefik's): no X448, no finite-field ffdhe groups. (sslscan's
      // OpenSSL 3.0 cannot offer X25519MLKEM768.)
      const groups = new Set(r.groups.map((g) => g.replace(/^TLSv1\.\d /, '')));
      assert.ok(groups.size > 0, r.xml);
      assert.deepEqual(
        [...groups].filter((g) => !/^(x25519|secp256r1|secp384r1|secp521r1)\b/.test(g)),
        [],
        r.xml,
      );
    });

    it('reports no compression and refuses a client-initiated renegotiation (openssl s_client)', async () => {
      const out = await renegotiate(tls, 'a.test');
      assert.match(out, /^Compression: NONE$/m, out);
      assert.match(out, /^RENEGOTIATING$/m, out);
      assert.match(out, /no renegotiation/, out);
    });
  });

  describe('client certificates', () => {
    const toB = (): string[] => https('b.test', '/mtls');

    it('completes an openssl s_client handshake with a client certificate, refuses it without one', async () => {
      const withCert = await sClient(tls, [
        '-servername',
        'b.test',
        '-cert',
        client.certFile,
        '-key',
        client.keyFile,
        '-CAfile',
        pki.ca.certFile,
      ]);
      assert.equal(withCert.code, 0, withCert.out);
      assert.equal(withCert.protocol, 'TLSv1.3', withCert.out);
      assert.match(withCert.out, /Verification: OK/, withCert.out);
      // TLS 1.2, where a missing certificate fails the handshake itself (TLS 1.3 reports it
      // after the client's Finished, which s_client may not wait for).
      const without = await sClient(tls, ['-tls1_2', '-servername', 'b.test']);
      assert.notEqual(without.code, 0, without.out);
      assert.equal(without.protocol, null, without.out);
      const rogueCert = await sClient(tls, [
        '-tls1_2',
        '-servername',
        'b.test',
        '-cert',
        rogue.certFile,
        '-key',
        rogue.keyFile,
      ]);
      assert.notEqual(rogueCert.code, 0, rogueCert.out);
      assert.equal(rogueCert.protocol, null, rogueCert.out);
    });

    it('fails the handshake of a client without a certificate', async () => {
      const r = await curl(toB());
      assert.notEqual(r.exitCode, 0, r.stderr);
      assert.equal(r.status, 0);
      assert.equal(
        backend.seen.some((s) => s.url === '/mtls'),
        false,
      );
    });

    it('serves a client whose certificate the configured CA signed', async () => {
      const r = await curl(['--cert', client.certFile, '--key', client.keyFile, ...toB()]);
      assert.equal(r.exitCode, 0, r.stderr);
      assert.equal(r.status, 200);
      const e = JSON.parse(r.body.toString()) as Echoed;
      assert.equal(e.url, '/mtls');
      assert.equal(e.headers['host'], `b.test:${tls}`);
    });

    it('refuses a client whose certificate another CA signed', async () => {
      const before = backend.seen.length;
      const r = await curl(['--cert', rogue.certFile, '--key', rogue.keyFile, ...toB()]);
      assert.notEqual(r.exitCode, 0, r.stderr);
      assert.equal(r.status, 0);
      assert.equal(backend.seen.length, before);
    });
  });

  describe('SNI and Host under different TLS options', () => {
    it('answers 421 when the Host needs the options of another SNI, serves the matching Host', async () => {
      const before = backend.seen.length;
      const misdirected = await tlsRawRequest(
        tls,
        'a.test',
        pki.ca.certPem,
        'GET /sneaky HTTP/1.1\r\nHost: b.test\r\nConnection: close\r\n\r\n',
      );
      assert.match(misdirected, /^HTTP\/1\.1 421 /, misdirected);
      assert.equal(backend.seen.length, before, 'the request must not reach the backend');
      const fine = await tlsRawRequest(
        tls,
        'a.test',
        pki.ca.certPem,
        'GET /fine HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n',
      );
      assert.match(fine, /^HTTP\/1\.1 200 /, fine);
    });
  });

  describe('entry point redirection', () => {
    it('answers 301 to the same host and path on the TLS entry point, which a client can follow', async () => {
      const r = await curl([...resolveArgs('a.test', web), `http://a.test:${web}/some/path?q=1`]);
      assert.equal(r.exitCode, 0, r.stderr);
      assert.equal(r.status, 301);
      assert.deepEqual(r.headers['location'], [`https://a.test:${tls}/some/path?q=1`]);
      assert.equal(
        backend.seen.some((s) => s.url.startsWith('/some/path')),
        false,
      );
      // 308 keeps the method and body: curl re-sends the POST over TLS.
      const followed = await curl([
        '-L',
        '--data-binary',
        'payload',
        '--cacert',
        pki.ca.certFile,
        ...resolveArgs('a.test', web, tls),
        `http://a.test:${web}/follow`,
      ]);
      assert.equal(followed.exitCode, 0, followed.stderr);
      assert.equal(followed.status, 200);
      const e = JSON.parse(followed.body.toString()) as Echoed;
      assert.equal(e.method, 'POST');
      assert.equal(e.bodyLength, 'payload'.length);
      assert.equal(e.headers['x-forwarded-proto'], 'https');
    });
  });

  describe('malformed openings on the TLS port', () => {
    it('hands cleartext to the HTTP side, as Traefik: no router there (404), not HTTP (400)', async () => {
      const r = await rawExchange(
        tls,
        Buffer.from('GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n'),
      );
      assert.match(r.reply.toString('latin1'), /^HTTP\/1\.1 404 /, r.reply.toString('latin1'));
      const binary = Buffer.from([0x00, 0xff, 0x13, 0x37, 0x42, 0x00, 0x01, 0x02, 0x0d, 0x0a, 0x0d, 0x0a]);
      const b = await rawExchange(tls, binary);
      assert.match(b.reply.toString('latin1'), /^HTTP\/1\.1 400 /, b.reply.toString('latin1'));
      assert.notEqual(b.closed, 'timeout');
    });

    it('closes a connection whose ClientHello is broken', async () => {
      const openings = {
        truncatedHello: Buffer.from([
          0x16, 0x03, 0x01, 0x00, 0x08, 0x01, 0x00, 0x00, 0x04, 0x03, 0x03, 0xaa, 0xbb,
        ]),
        notAHello: Buffer.from([0x16, 0x03, 0x01, 0x00, 0x06, 0x02, 0x00, 0x00, 0x02, 0x03, 0x03]),
      };
      for (const [name, bytes] of Object.entries(openings)) {
        const r = await rawExchange(tls, bytes);
        assert.notEqual(r.closed, 'timeout', `${name}: the proxy kept the connection open`);
        assert.ok(!r.reply.toString('latin1').startsWith('HTTP/'), `${name}: ${r.reply.toString('latin1')}`);
      }
    });

    it('closes a well-formed ClientHello that offers nothing the server accepts', async () => {
      // openssl refuses on its own side first unless the suite is one it can offer at all:
      // TLS 1.2 with only a CBC suite, which the default options do not accept.
      const r = await sClient(tls, [
        '-tls1_2',
        '-cipher',
        'ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0',
        '-servername',
        'a.test',
      ]);
      assert.notEqual(r.code, 0, r.out);
      assert.equal(r.protocol, null, r.out);
    });
  });

  describe('load over HTTP/2', () => {
    it('answers nghttp over TLS (ALPN h2) with the backend response', async () => {
      const r = await run('nghttp', ['-v', `https://127.0.0.1:${tls}/nghttp`]);
      assert.equal(r.code, 0, r.out);
      assert.match(r.out, /The negotiated protocol: h2/, r.out);
      assert.match(r.out, /recv \(stream_id=\d+\) :status: 200/, r.out);
      assert.match(r.out, /"url":"\/nghttp"/, r.out);
      assert.match(r.out, /"x-forwarded-proto":"https"/, r.out);
    });

    it('serves h2load (1000 requests, 10 connections, 10 streams each) without an error', async () => {
      const r = await run('h2load', ['-n', '1000', '-c', '10', '-m', '10', `https://127.0.0.1:${tls}/load`]);
      assert.equal(r.code, 0, r.out);
      assert.match(r.out, /Application protocol: h2/, r.out);
      const m =
        /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(
          r.out,
        );
      assert.ok(m, r.out);
      assert.deepEqual(m.slice(1).map(Number), [1000, 1000, 1000, 1000, 0, 0, 0], r.out);
      assert.match(r.out, /status codes: 1000 2xx/, r.out);
    });
  });

  describe('certificate replaced on disk', () => {
    it('serves the new certificate to new handshakes, with no request failing during the swap', async () => {
      const next = pki.issue('a.test', ['a.test']);
      const oldFp = fingerprint(certA.certPem);
      const newFp = fingerprint(next.certPem);
      assert.notEqual(oldFp, newFp);

      const seen: { fp: string; startedAt: number; doneAt: number }[] = [];
      const failures: string[] = [];
      let stop = false;
      let seq = 0;
      const one = (): Promise<void> =>
        new Promise((resolve) => {
          const startedAt = ++seq;
          const req = httpsRequest(
            {
              host: '127.0.0.1',
              port: tls,
              path: '/swap',
              servername: 'a.test',
              headers: { host: 'a.test' },
              ca: pki.ca.certPem,
              agent: false,
            },
            (res) => {
              const fp = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
              res.resume();
              res.on('end', () => {
                if (res.statusCode === 200) seen.push({ fp, startedAt, doneAt: ++seq });
                else failures.push(`status ${res.statusCode}`);
                resolve();
              });
              res.on('error', (e) => {
                failures.push(e.message);
                resolve();
              });
            },
          );
          req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
          req.on('error', (e) => {
            failures.push(e.message);
            resolve();
          });
          req.end();
        });
      const worker = async (): Promise<void> => {
        while (!stop) await one();
      };
      const workers = [worker(), worker(), worker(), worker()];
      try {
        await pollUntil(() => seen.length >= 20, 'requests before the swap');
        // Key first, then certificate; each file is replaced by a rename, never rewritten in place.
        proxy.writeFile('a.key', next.keyPem);
        proxy.writeFile('a.pem', next.certPem);
        await pollUntil(async () => {
          const h = await handshake({ port: tls, servername: 'a.test', ca: pki.ca.certPem });
          return h.ok && h.fingerprint256 === newFp;
        }, 'the new certificate on a new handshake');
        await pollUntil(() => seen.filter((s) => s.fp === newFp).length >= 20, 'requests after the swap');
        stop = true;
        await Promise.all(workers);
        assert.deepEqual(failures, []);
        assert.ok(
          seen.some((s) => s.fp === oldFp),
          'the loop ran before the swap',
        );
        // Once a handshake got the new certificate, none begun after it gets the old one.
        const cut = seen.find((s) => s.fp === newFp)!.doneAt;
        const stale = seen.filter((s) => s.startedAt > cut && s.fp !== newFp);
        assert.deepEqual(stale, []);
      } finally {
        stop = true;
        await Promise.all(workers);
      }
    });
  });

  describe('connections of clients that leave', () => {
    it('closes the connection of a client that hangs up right after its handshake', async () => {
      const pid = proxy.child.pid!;
      const base = socketFds(pid);
      for (let i = 0; i < 20; i++) {
        const h = await handshake({ port: tls, servername: 'a.test' });
        assert.ok(h.ok, JSON.stringify(h));
      }
      // The peer's FIN is there: nothing is left to wait for (a safety net, not a measure).
      await pollUntil(() => socketFds(pid) <= base, `the proxy to close 20 hung-up connections`, 5_000);
    });
  });

  describe('shutdown', () => {
    it('exits 0 on SIGTERM after all of the above', async () => {
      // null: SIGKILLed after 5 s, because the process did not exit on SIGTERM (grace is 1 s).
      const [main, second] = await Promise.all([proxy.stop('SIGTERM', 5_000), plain.stop('SIGTERM', 5_000)]);
      assert.deepEqual({ main, second }, { main: 0, second: 0 });
    });
  });
});

function fingerprint(certPem: string): string {
  return new X509Certificate(certPem).fingerprint256;
}

/** Polls `cond` until it holds; fails with `what` after `timeoutMs` (a safety net, not a measure). */
async function pollUntil(
  cond: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
