/**
 * Ticket rotation against the openssl command line: sessions saved with `s_client -sess_out` and
 * offered again with `-sess_in`, on a real tls.Server, the clock of the key ring moved by hand.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createSecureContext, createServer, type Server } from 'node:tls';
import { SessionTicketKeys } from './session-tickets.ts';
import { selfSignedCertificate } from './x509/index.ts';

const cert = selfSignedCertificate(['tickets.test'], { commonName: 'tickets.test', days: 2 });
const other = selfSignedCertificate(['default.test'], { commonName: 'default.test', days: 2 });
const dir = mkdtempSync(join(tmpdir(), 'tm-tickets-'));
let sessions = 0;

/** One s_client handshake (SNI tickets.test); says whether the offered session was resumed. */
function sClient(
  port: number,
  version: '-tls1_2' | '-tls1_3',
  sessIn?: string,
): Promise<{ reused: boolean; saved: string; ticketName: string | undefined }> {
  const saved = join(dir, `s${++sessions}.pem`);
  const args = ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'tickets.test', version];
  // -ign_eof: read until the server closes, so TLS 1.3 tickets (sent after the handshake) arrive.
  args.push('-ign_eof', '-sess_out', saved, ...(sessIn === undefined ? [] : ['-sess_in', sessIn]));
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.on('error', (e) => reject(new Error(`openssl: ${e.message} (apt-get install -y openssl)`)));
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = /^(New|Reused), TLSv1\.[23]/m.exec(out);
      // A full handshake shows the certificate (a resumed one sends none).
      if (line?.[1] === 'New' && !out.includes('s:CN = tickets.test')) {
        reject(new Error(`not the SNI certificate:\n${out}`));
        return;
      }
      // s_client exits 1 when the server closes first (-ign_eof); the summary line is the verdict.
      if (line === null) reject(new Error(`s_client failed (${code}):\n${out}`));
      else resolve({ reused: line[1] === 'Reused', saved, ticketName: lastTicketName(out) });
    });
  });
}

/**
 * The key name (first 16 bytes, hex) of the last ticket s_client printed: TLS 1.3 tickets arrive
 * after the handshake, each printed in a session block; a TLS 1.2 ticket renewed on resumption
 * replaces the old one in the session (s_client writes no -sess_out file for it).
 */
function lastTicketName(out: string): string | undefined {
  const blocks = [...out.matchAll(/TLS session ticket:\n\s+0000 - ([0-9a-f -]{47})/g)];
  const last = blocks[blocks.length - 1]?.[1];
  return last?.replace(/[ -]/g, '');
}

interface Running {
  readonly server: Server;
  readonly port: number;
  readonly hooked: boolean;
}

const servers: Server[] = [];

/** A TLS server for the options set `fingerprint`, keys from `ring`; answers and closes. */
async function serve(
  ring: SessionTicketKeys,
  fingerprint: string,
  prepare?: (s: Server) => void,
): Promise<Running> {
  // The certificate comes from SNICallback, as in the TLS front: OpenSSL must still use the
  // server's ticket keys, not the swapped-in context's.
  const sni = createSecureContext({ cert: cert.certPem, key: cert.keyPem });
  const server = createServer(
    { cert: other.certPem, key: other.keyPem, minVersion: 'TLSv1.2', SNICallback: (_n, cb) => cb(null, sni) },
    (s) => s.end('hello\n'),
  );
  prepare?.(server);
  const hooked = ring.install(server, fingerprint);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port, hooked };
}

describe('session ticket key rotation', () => {
  let clock = 0;
  const period = 1_000;
  const ring = new SessionTicketKeys({ periodMs: period, now: () => clock });

  before(() => {
    clock = 10 * period + 1;
  });

  after(() => {
    for (const s of servers) s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const version of ['-tls1_3', '-tls1_2'] as const) {
    it(`resumes within a period, across one rotation, and not after two (${version})`, async () => {
      clock = 10 * period + 1;
      const { port, hooked } = await serve(ring, `fp-${version}`);
      assert.equal(hooked, true, "node's ticket key hook is available");
      const first = await sClient(port, version);
      assert.equal(first.reused, false);
      clock += period / 2;
      const same = await sClient(port, version, first.saved);
      assert.equal(same.reused, true, 'resumed within the period');

      clock += period; // the next period: the first ticket's key only decrypts now
      const renewed = await sClient(port, version, first.saved);
      assert.equal(renewed.reused, true, 'resumed across one rotation');

      const currentName = ring.key(`fp-${version}`, ring.period()).name.toString('hex');
      assert.notEqual(first.ticketName, currentName);
      assert.equal(renewed.ticketName, currentName, 'the resumed session got a ticket under the current key');

      clock += period; // two rotations after the first ticket
      const stale = await sClient(port, version, first.saved);
      assert.equal(stale.reused, false, 'a ticket two periods old gets a full handshake');
      if (version === '-tls1_3') {
        // The ticket the renewal handed out still resumes (s_client saves it for TLS 1.3 only).
        const fromRenewal = await sClient(port, version, renewed.saved);
        assert.equal(fromRenewal.reused, true, 'the renewed ticket is sealed with the newer key');
      }
    });
  }

  it('keeps tickets valid on a new server for the same options set (a reload), not for another set', async () => {
    clock = 20 * period + 1;
    const before = await serve(ring, 'options-a');
    const ticket = await sClient(before.port, '-tls1_3');
    const reloaded = await serve(ring, 'options-a');
    assert.equal((await sClient(reloaded.port, '-tls1_3', ticket.saved)).reused, true);
    const changed = await serve(ring, 'options-b');
    assert.equal((await sClient(changed.port, '-tls1_3', ticket.saved)).reused, false);
  });

  it('refuses tickets of another process (another secret) for the same options set', async () => {
    clock = 30 * period + 1;
    const mine = await serve(ring, 'options-a');
    const ticket = await sClient(mine.port, '-tls1_2');
    const other = await serve(new SessionTicketKeys({ periodMs: period, now: () => clock }), 'options-a');
    assert.equal((await sClient(other.port, '-tls1_2', ticket.saved)).reused, false);
  });

  it("falls back to the current period's key when node's hook is missing", async () => {
    clock = 40 * period + 1;
    const hide = (s: Server): void => {
      const context = (s as unknown as { _sharedCreds: { context: object } })._sharedCreds.context;
      Object.defineProperty(context, 'enableTicketKeyCallback', { value: undefined });
    };
    const plain = await serve(ring, 'options-a', hide);
    assert.equal(plain.hooked, false);
    const k = ring.key('options-a', ring.period());
    assert.deepEqual(plain.server.getTicketKeys(), Buffer.concat([k.name, k.hmac, k.aes]));
    const ticket = await sClient(plain.port, '-tls1_3');
    assert.equal((await sClient(plain.port, '-tls1_3', ticket.saved)).reused, true);
    // The hooked servers of this process accept what the fallback sealed in the same period.
    const hooked = await serve(ring, 'options-a');
    assert.equal((await sClient(hooked.port, '-tls1_3', ticket.saved)).reused, true);
  });
});
