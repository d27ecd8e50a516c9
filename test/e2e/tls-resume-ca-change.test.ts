/**
 * Go CVE-2025-68121 (Go 1.25.7 crypto/tls; Traefik GHSA-gv8r-9rw9-9697, v3.6.8): a session made
 * under one set of client CAs resumed after the CAs changed, skipping the new verification: a
 * client certificate the new CAs refuse kept its access through its ticket. Ours keys ticket
 * keys and OpenSSL's session id context by the options' fingerprint, which holds the CA PEMs'
 * contents (src/tls/tls-options.ts): once a reload reads other CAs behind the same `caFiles`
 * path, an old ticket gets a full handshake, and the old client certificate is refused.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { type Issued, TestPki } from '../helpers/tls-certs.ts';

interface Outcome {
  readonly reused: boolean;
  readonly status: string;
  readonly session: Buffer | undefined;
  readonly error?: string;
}

describe('TLS resumption after the client CAs changed (Go CVE-2025-68121)', () => {
  let pki: TestPki;
  let other: TestPki;
  let server: Issued;
  let client: Issued;
  let backend: Backend;
  let proxy: ProxyProcess;

  // `mark` changes the configuration itself: an unchanged one is not applied again (as in Traefik).
  const dynamic = (mark: string): string => `http:
  routers:
    ${mark}: { rule: "Host(\`${mark}.test\`)", service: be, tls: {} }
    a: { rule: "Host(\`a.test\`)", service: be, tls: { options: mtls } }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
tls:
  certificates:
    - { certFile: a.pem, keyFile: a.key }
  options:
    mtls:
      clientAuth:
        caFiles: [ca.pem]
        clientAuthType: RequireAndVerifyClientCert
`;

  before(async () => {
    pki = new TestPki('resumption CA one');
    other = new TestPki('resumption CA two');
    server = pki.issue('a.test', ['a.test']);
    client = pki.issue('client', []);
    backend = await startBackend((_req, res) => res.end('protected'));
    proxy = await startProxy({
      config: `entryPoints:
  websecure:
    address: "127.0.0.1:0"
providers:
  file: { filename: dyn.yaml }
`,
      files: {
        'dyn.yaml': dynamic('first'),
        'a.pem': server.certPem,
        'a.key': server.keyPem,
        'ca.pem': pki.ca.certPem,
      },
    });
  });

  after(async () => {
    await proxy?.stop();
    await backend?.close();
    pki?.remove();
    other?.remove();
  });

  /** One request on a new TLS 1.3 connection, with the client certificate or a ticket. */
  const request = (opts: { cert?: Issued; session?: Buffer }): Promise<Outcome> =>
    new Promise((resolve) => {
      let ticket: Buffer | undefined;
      let reply = '';
      let reused = false;
      let error: string | undefined;
      const s = tlsConnect(
        {
          host: '127.0.0.1',
          port: proxy.ports['websecure']!,
          servername: 'a.test',
          ca: pki.ca.certPem,
          minVersion: 'TLSv1.3',
          ALPNProtocols: ['http/1.1'],
          ...(opts.cert ? { cert: opts.cert.certPem, key: opts.cert.keyPem } : {}),
          ...(opts.session ? { session: opts.session } : {}),
        },
        () => {
          reused = s.isSessionReused();
          s.write('GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n');
        },
      );
      s.on('session', (b: Buffer) => {
        ticket ??= b;
      });
      s.setEncoding('latin1');
      s.on('data', (c: string) => {
        reply += c;
      });
      s.setTimeout(10_000, () => s.destroy(new Error('timed out')));
      s.on('error', (e: NodeJS.ErrnoException) => {
        error = e.code ?? e.message;
      });
      s.on('close', () =>
        resolve({
          reused,
          status: reply.split('\r\n')[0] ?? '',
          session: ticket,
          ...(error ? { error } : {}),
        }),
      );
    });

  it('resumes under unchanged CAs, and not once a reload read other CAs behind the same file', async () => {
    const first = await request({ cert: client });
    assert.match(first.status, /^HTTP\/1\.1 200 /, JSON.stringify(first));
    assert.ok(first.session, 'a session ticket was sent');
    const again = await request({ session: first.session });
    assert.equal(again.reused, true, 'resumed while the CAs are the same');
    assert.match(again.status, /^HTTP\/1\.1 200 /);

    // The CA file now holds another CA, and a configuration change makes the proxy read it.
    const generation = Math.max(0, ...proxy.logs.map((l) => Number(l['generation'] ?? 0)));
    proxy.writeFile('ca.pem', other.ca.certPem);
    proxy.writeFile('dyn.yaml', dynamic('second'));
    const applied = await proxy.waitForLog(
      (l) =>
        l.msg === 'configuration rejected' ||
        (l.msg === 'configuration applied' && Number(l['generation']) > generation),
      20_000,
    );
    assert.equal(applied.msg, 'configuration applied', JSON.stringify(applied));

    const stale = await request({ session: first.session });
    assert.equal(stale.reused, false, 'the old ticket did not resume');
    assert.doesNotMatch(stale.status, /^HTTP\/1\.1 200 /, JSON.stringify(stale));
    const refused = await request({ cert: client });
    assert.doesNotMatch(refused.status, /^HTTP\/1\.1 200 /, 'the old CA no longer admits its client');
  });
});
