import assert from 'node:assert/strict';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Issued, TestPki } from '../upstream/test-pki.ts';
import { loadUpstreamTls } from '../upstream/transport-tls.ts';
import { activeCheckOptions } from './active-options.ts';
import { type ProbeTarget, probe } from './probe.ts';

let pki: TestPki;
let web: Issued;

before(() => {
  pki = new TestPki('Connect CA');
  web = pki.issue('web', ['spiffe://td.consul/ns/default/dc/dc1/svc/web']);
});

after(() => pki.remove());

/** An https server presenting the certificate of `web`; the probe's target with the transport's TLS. */
async function target(peerCertURI: string): Promise<{ target: ProbeTarget; close: () => Promise<void> }> {
  const server = createServer({ key: web.keyPem, cert: web.certPem }, (_q, s) => s.end('ok'));
  server.on('tlsClientError', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const r = loadUpstreamTls({ rootCAs: [pki.ca.certPem], insecureSkipVerify: true, peerCertURI });
  assert.ok(r.ok);
  const tls = r.tls;
  return {
    target: {
      host: '127.0.0.1',
      port,
      authority: `127.0.0.1:${port}`,
      tls: {
        secureContext: tls.secureContext,
        servername: undefined,
        rejectUnauthorized: !tls.insecureSkipVerify,
        ...(tls.checkServerIdentity === undefined ? {} : { checkServerIdentity: tls.checkServerIdentity }),
      },
    },
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((res) => server.close(() => res()));
    },
  };
}

describe('active health probes of a transport with peerCertURI', () => {
  it('pass against the server with the SPIFFE ID, fail against another identity', async () => {
    const o = activeCheckOptions({ path: '/health' });
    const never = new AbortController().signal;
    const good = await target('spiffe://td.consul/ns/default/dc/dc1/svc/web');
    try {
      assert.deepEqual(await probe(good.target, o, never), { ok: true, reason: 'status 200' });
    } finally {
      await good.close();
    }
    const bad = await target('spiffe://td.consul/ns/default/dc/dc1/svc/db');
    try {
      const r = await probe(bad.target, o, never);
      assert.equal(r.ok, false);
      assert.match(r.reason, /PEER_URI_MISMATCH|svc\/web, want/);
    } finally {
      await bad.close();
    }
  });
});
