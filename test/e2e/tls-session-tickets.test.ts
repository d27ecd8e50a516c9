/**
 * TLS options `disableSessionTickets` (Traefik v3.5, Go's tls.Config.SessionTicketsDisabled):
 * a client offering the session it got from an options set with it on gets a full handshake,
 * over TLS 1.3 and TLS 1.2, while a host of another options set still resumes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { TestPki } from '../helpers/tls-certs.ts';

interface Outcome {
  readonly reused: boolean;
  readonly status: string;
  readonly session: Buffer | undefined;
}

describe('TLS options disableSessionTickets', () => {
  let pki: TestPki;
  let backend: Backend;
  let proxy: ProxyProcess;

  before(async () => {
    pki = new TestPki('session tickets CA');
    const cert = pki.issue('tickets', ['nt.test', 'ok.test']);
    backend = await startBackend((_req, res) => res.end('ok'));
    proxy = await startProxy({
      config: `entryPoints:
  websecure:
    address: "127.0.0.1:0"
providers:
  file: { filename: dyn.yaml }
`,
      files: {
        'dyn.yaml': `http:
  routers:
    nt: { rule: "Host(\`nt.test\`)", service: be, tls: { options: notickets } }
    ok: { rule: "Host(\`ok.test\`)", service: be, tls: {} }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
tls:
  certificates:
    - { certFile: c.pem, keyFile: c.key }
  options:
    notickets:
      disableSessionTickets: true
`,
        'c.pem': cert.certPem,
        'c.key': cert.keyPem,
      },
    });
  });

  after(async () => {
    await proxy?.stop();
    await backend?.close();
    pki?.remove();
  });

  /** One request on a new connection at exactly `version`, offering `session` when given. */
  const request = (host: string, version: 'TLSv1.2' | 'TLSv1.3', session?: Buffer): Promise<Outcome> =>
    new Promise((resolve, reject) => {
      let ticket: Buffer | undefined;
      let reply = '';
      let reused = false;
      const s = tlsConnect(
        {
          host: '127.0.0.1',
          port: proxy.ports['websecure']!,
          servername: host,
          ca: pki.ca.certPem,
          minVersion: version,
          maxVersion: version,
          ALPNProtocols: ['http/1.1'],
          ...(session ? { session } : {}),
        },
        () => {
          reused = s.isSessionReused();
          s.write(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
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
      s.on('error', reject);
      s.on('close', () => resolve({ reused, status: reply.split('\r\n')[0] ?? '', session: ticket }));
    });

  for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
    it(`never resumes a session of an options set with disableSessionTickets (${version})`, async () => {
      const first = await request('nt.test', version);
      assert.match(first.status, /^HTTP\/1\.1 200 /, JSON.stringify(first));
      // OpenSSL may still hand a (stateful) session to the client; it must not resume.
      if (first.session !== undefined) {
        const again = await request('nt.test', version, first.session);
        assert.equal(again.reused, false, 'a session of the disableSessionTickets options resumed');
        assert.match(again.status, /^HTTP\/1\.1 200 /);
      }
      const other = await request('ok.test', version);
      assert.ok(other.session, 'the default options gave no session ticket');
      const resumed = await request('ok.test', version, other.session);
      assert.equal(resumed.reused, true, 'the default options did not resume');
    });
  }
});
