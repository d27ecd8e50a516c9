/**
 * Stapling end to end at the unit level: a real tls.Server with the stapler's OCSPRequest
 * listener, `openssl ocsp` as the responder on loopback, `openssl s_client -status` as the client,
 * and the stapler's clock moved by hand for refreshes and expiry.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { type AddressInfo, createServer as createNetServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createServer, type Server } from 'node:tls';
import { createLogger, type Logger } from '../../core/logger.ts';
import { type Issued, TestPki } from '../../upstream/test-pki.ts';
import { OcspStapler, type OcspStaplerOptions } from './ocsp-stapler.ts';
import { freePort, OcspResponder } from './test-responder.ts';

const MINUTE = 60_000;

/** `openssl s_client -status`: what the server stapled, as s_client reads it. */
async function statusOf(port: number): Promise<{ stapled: boolean; certStatus: string | null; out: string }> {
  const child = spawn(
    'openssl',
    ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'x.test', '-status'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const [code] = (await once(child, 'close')) as [number | null];
  clearTimeout(timer);
  if (!/^(OCSP response: no response sent|OCSP Response Data:)/m.test(out)) {
    throw new Error(`s_client (${code}) printed no OCSP verdict:\n${out}`);
  }
  const stapled = /OCSP Response Status: successful/.test(out);
  return { stapled, certStatus: /Cert Status: (\w+)/.exec(out)?.[1] ?? null, out };
}

/** The thisUpdate line of the stapled response (tells one response from a later one). */
const thisUpdate = (out: string): string | undefined => /This Update: (.+)$/m.exec(out)?.[1];

function memoryLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    level: 'debug',
    format: 'json',
    write: (l) => {
      lines.push(JSON.parse(l) as Record<string, unknown>);
    },
  });
  return { logger, lines };
}

describe('OCSP stapling', () => {
  const pki = new TestPki('Stapling CA');
  const OVERRIDDEN = 'http://ocsp.example.invalid/';
  let responderPort: number;
  let good: Issued;
  let revoked: Issued;
  let overridden: Issued;
  let noUrl: Issued;
  let responder: OcspResponder;
  const servers: Server[] = [];
  const staplers: OcspStapler[] = [];

  before(async () => {
    // The responder's URL goes into the certificates, so its port is chosen first; the
    // responder reads the CA database when it starts, so it starts after issuing.
    responderPort = await freePort();
    const url = `http://127.0.0.1:${responderPort}/`;
    good = pki.issue('x.test', ['x.test'], { ocspUrl: url });
    revoked = pki.issue('x.test', ['x.test'], { ocspUrl: url });
    overridden = pki.issue('x.test', ['x.test'], { ocspUrl: OVERRIDDEN });
    noUrl = pki.issue('x.test', ['x.test']);
    pki.revoke(revoked);
    responder = await OcspResponder.start(pki, { port: responderPort, validMinutes: 60 });
  });

  after(async () => {
    for (const s of staplers) s.close();
    for (const s of servers) s.close();
    await responder?.stop();
    pki.remove();
  });

  /** A TLS server for `cert` (chain: leaf + CA), stapling through a new stapler. */
  async function serve(
    cert: Issued,
    opts: Partial<OcspStaplerOptions> = {},
  ): Promise<{ port: number; stapler: OcspStapler; lines: Record<string, unknown>[] }> {
    const { logger, lines } = memoryLogger();
    const stapler = new OcspStapler({ logger, checkEveryMs: 0, ...opts });
    staplers.push(stapler);
    const certPem = cert.certPem + pki.ca.certPem;
    stapler.track([{ certPem, source: cert.certFile }]);
    const server = createServer({ cert: certPem, key: cert.keyPem }, (s) => s.end());
    server.on('OCSPRequest', stapler.onOcspRequest);
    servers.push(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return { port: (server.address() as AddressInfo).port, stapler, lines };
  }

  it('staples a good response for a certificate with an OCSP URL, from the first handshake', async () => {
    const { port } = await serve(good);
    const r = await statusOf(port);
    assert.equal(r.stapled, true, r.out);
    assert.equal(r.certStatus, 'good', r.out);
  });

  it('staples the revoked status of a revoked certificate', async () => {
    const { port, lines } = await serve(revoked);
    const r = await statusOf(port);
    assert.equal(r.certStatus, 'revoked', r.out);
    assert.ok(lines.some((l) => l['level'] === 'warn' && /revoked/.test(String(l['msg']))));
  });

  it('staples nothing for a certificate without an OCSP URL', async () => {
    const { port } = await serve(noUrl);
    const r = await statusOf(port);
    assert.equal(r.stapled, false, r.out);
    assert.match(r.out, /OCSP response: no response sent/);
  });

  it('asks the responder that responderOverrides puts in place of the certificate URL', async () => {
    const { port } = await serve(overridden, { responderOverrides: { [OVERRIDDEN]: responder.url } });
    const r = await statusOf(port);
    assert.equal(r.certStatus, 'good', r.out);
  });

  it('refreshes after half the validity, keeps the last good response while the responder is down, never serves it expired', async () => {
    let clock = Date.now();
    const { port, stapler, lines } = await serve(good, { now: () => clock });
    const first = await statusOf(port);
    assert.equal(first.certStatus, 'good', first.out);

    // Before the half-way point nothing is due: the responder going down changes nothing.
    await responder.stop();
    clock += 20 * MINUTE;
    await stapler.refreshDue();
    assert.ok(!lines.some((l) => l['msg'] === 'OCSP response not refreshed'));

    // Past it, the refresh fails; the response fetched first is still stapled.
    clock += 15 * MINUTE;
    await stapler.refreshDue();
    const failed = lines.find((l) => l['msg'] === 'OCSP response not refreshed');
    assert.ok(failed, JSON.stringify(lines));
    assert.equal(failed['stapling'], true);
    const kept = await statusOf(port);
    assert.equal(kept.certStatus, 'good', kept.out);
    assert.equal(thisUpdate(kept.out), thisUpdate(first.out), 'the same response as before');

    // Once its nextUpdate has passed it is not stapled any more.
    clock += 30 * MINUTE;
    const expired = await statusOf(port);
    assert.equal(expired.stapled, false, expired.out);

    // The responder is back (the certificate has since been revoked, and its answers now last a
    // day, past the stapler's clock): the retry, due a minute after the failure, gets it.
    pki.revoke(good);
    responder = await OcspResponder.start(pki, { port: responderPort, validMinutes: 24 * 60 });
    await stapler.refreshDue();
    const fresh = await statusOf(port);
    assert.equal(fresh.certStatus, 'revoked', fresh.out);
  });

  it('does not hold a handshake for a responder that does not answer', async () => {
    const sockets = new Set<Socket>();
    const silent = createNetServer((s) => sockets.add(s));
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/`;
    const { port, stapler } = await serve(overridden, {
      responderOverrides: { [OVERRIDDEN]: url },
      fetchTimeoutMs: 120_000,
      handshakeWaitMs: 200,
    });
    try {
      // The fetch is still waiting (for two minutes), the handshake is through without a staple.
      const r = await statusOf(port);
      assert.equal(r.stapled, false, r.out);
      assert.equal(sockets.size, 1, 'the stapler did ask the silent responder');
    } finally {
      stapler.close();
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });
});
