/**
 * The certificate manager against a real ACME server: Debian's pebble, with pebble-challtestsrv
 * as its DNS, all on loopback. The test's own challenge servers stand in for the proxy's entry
 * points: an HTTP server answering from the Http01Store on pebble's httpPort, and a TLS server
 * presenting the TlsAlpn01Store certificate for `acme-tls/1` on its tlsPort.
 *
 * Timers go through a manual scheduler and the wall clock is frozen, so the test decides when a
 * renewal or a retry happens and can assert the delays the manager chose.
 */
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  createSecureContext,
  createServer as createTlsServer,
  type SecureContext,
  type TLSSocket,
  type Server as TlsServer,
} from 'node:tls';
import { PEBBLE_SKIP, type Pebble, startPebble } from '../../../test/helpers/pebble.ts';
import type { Clock } from '../../core/clock.ts';
import { createLogger, type Logger } from '../../core/logger.ts';
import { certificateInfo, type KeyAndCert, selfSignedCertificate } from '../x509/index.ts';
import { CertificateManager, type CertificateManagerOptions } from './acme-manager.ts';
import { type AcmeTransport, httpsTransport } from './acme-transport.ts';
import { ChallTestSrvDnsProvider } from './dns01-provider.ts';
import { Http01Store } from './http01-store.ts';
import type { Scheduler } from './scheduler.ts';
import { ACME_TLS_ALPN_PROTOCOL, TlsAlpn01Store } from './tls-alpn01-store.ts';

/** Timers that run only when the test fires them. */
class ManualScheduler implements Scheduler {
  readonly #pending = new Map<number, { fn: () => void; ms: number }>();
  #next = 1;
  #sets = 0;
  #waiters: { after: number; resolve: (ms: number) => void }[] = [];

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#pending.set(id, { fn, ms });
    this.#sets++;
    const ready = this.#waiters.filter((w) => this.#sets > w.after);
    this.#waiters = this.#waiters.filter((w) => this.#sets <= w.after);
    for (const w of ready) w.resolve(ms);
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#pending.delete(handle as number);
  }

  /** How many timers were set so far: pass it to `armedAfter` before triggering work. */
  get sets(): number {
    return this.#sets;
  }

  /** The delay of the first timer set after `sets` reached `mark` (the manager re-arms once per burst of work). */
  armedAfter(mark: number): Promise<number> {
    const deadline = AbortSignal.timeout(20_000);
    return new Promise((resolve, reject) => {
      if (this.#sets > mark) {
        resolve([...this.#pending.values()].at(-1)?.ms ?? -1);
        return;
      }
      this.#waiters.push({ after: mark, resolve });
      deadline.addEventListener('abort', () => reject(new Error('the manager never re-armed its timer')));
    });
  }

  get pending(): number {
    return this.#pending.size;
  }

  /** Runs the one pending timer. */
  fire(): void {
    assert.equal(this.#pending.size, 1, 'exactly one timer is pending');
    const [id, t] = [...this.#pending][0]!;
    this.#pending.delete(id);
    t.fn();
  }
}

class FrozenClock implements Clock {
  wall = Date.now();
  now(): number {
    return performance.now();
  }
  wallNow(): number {
    return this.wall;
  }
}

interface LogRecord {
  readonly level: string;
  readonly msg: string;
  readonly [k: string]: unknown;
}

function capturingLogger(): { logger: Logger; lines: LogRecord[] } {
  const lines: LogRecord[] = [];
  const logger = createLogger({
    level: 'debug',
    format: 'json',
    write: (l) => lines.push(JSON.parse(l) as LogRecord),
  });
  return { logger, lines };
}

function splitPem(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
}

/** The chain links up to `rootPem` signature by signature, and the leaf is valid for every name. */
function assertChainVerifies(chainPem: string, rootPem: string, names: readonly string[]): void {
  const chain = splitPem(chainPem).map((p) => new X509Certificate(p));
  assert.ok(chain.length >= 2, 'leaf and intermediate');
  const links = [...chain, new X509Certificate(rootPem)];
  for (let i = 0; i + 1 < links.length; i++) {
    const child = links[i]!;
    const parent = links[i + 1]!;
    assert.ok(child.checkIssued(parent), `${child.subject} issued by ${parent.subject}`);
    assert.ok(child.verify(parent.publicKey), `${child.subject} signed by ${parent.subject}`);
  }
  for (const n of names) assert.notEqual(chain[0]!.checkHost(n), undefined, `leaf valid for ${n}`);
}

/** The proxy's side of the challenges, as the lead will wire it into the entry points. */
class ChallengeServers {
  readonly http01 = new Http01Store();
  readonly tlsAlpn01 = new TlsAlpn01Store();
  readonly http: HttpServer;
  readonly tls: TlsServer;
  /** Called when pebble's validator fetches an http-01 token. */
  onValidation: (() => void) | undefined;
  readonly #acmeSockets = new WeakSet<TLSSocket>();
  readonly #contexts = new WeakMap<KeyAndCert, SecureContext>();

  constructor() {
    this.http = createHttpServer((req, res) => {
      this.onValidation?.();
      const answer = this.http01.lookupPath(req.url ?? '');
      res.writeHead(answer === undefined ? 404 : 200, { 'content-type': 'text/plain' });
      res.end(answer);
    });
    const fallback = selfSignedCertificate(['localhost']);
    const servers = this;
    this.tls = createTlsServer({
      key: fallback.keyPem,
      cert: fallback.certPem,
      // OpenSSL asks for ALPN before the certificate callback, so the socket can be marked here and
      // the challenge certificate chosen in SNICallback; `this` is the TLSSocket in both.
      ALPNCallback(this: TLSSocket, { protocols }) {
        if (!protocols.includes(ACME_TLS_ALPN_PROTOCOL)) return protocols[0];
        servers.#acmeSockets.add(this);
        return ACME_TLS_ALPN_PROTOCOL;
      },
      SNICallback(this: TLSSocket, name, cb) {
        const challenge = servers.#acmeSockets.has(this) ? servers.tlsAlpn01.lookup(name) : undefined;
        if (challenge === undefined) {
          cb(null, undefined);
          return;
        }
        let ctx = servers.#contexts.get(challenge);
        if (ctx === undefined) {
          ctx = createSecureContext({ key: challenge.keyPem, cert: challenge.certPem });
          servers.#contexts.set(challenge, ctx);
        }
        cb(null, ctx);
      },
    });
    this.tls.on('secureConnection', (s) => s.end());
    this.tls.on('tlsClientError', () => {});
  }

  async listen(): Promise<void> {
    await new Promise<void>((r) => this.http.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => this.tls.listen(0, '127.0.0.1', r));
  }

  get httpPort(): number {
    return (this.http.address() as AddressInfo).port;
  }

  get tlsPort(): number {
    return (this.tls.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.http.closeAllConnections();
    await new Promise((r) => this.http.close(r));
    await new Promise((r) => this.tls.close(r));
  }
}

interface Harness {
  readonly manager: CertificateManager;
  readonly scheduler: ManualScheduler;
  readonly clock: FrozenClock;
  readonly lines: LogRecord[];
  readonly changes: { domains: readonly string[]; cert: KeyAndCert }[];
  readonly storageFile: string;
}

const dirs: string[] = [];
const managers: CertificateManager[] = [];

function harness(
  servers: ChallengeServers,
  ca: Pebble,
  opts: Partial<CertificateManagerOptions> & Pick<CertificateManagerOptions, 'challenge'>,
): Harness {
  const dir = mkdtempSync(join(tmpdir(), 'acme-mgr-'));
  dirs.push(dir);
  const scheduler = new ManualScheduler();
  const clock = new FrozenClock();
  const { logger, lines } = capturingLogger();
  const storageFile = join(dir, 'acme.json');
  const manager = new CertificateManager(
    {
      caServer: ca.directoryUrl,
      email: 'ops@example.com',
      storageFile,
      resolverName: 'le',
      caCertificates: ca.serverCaPem,
      clock,
      scheduler,
      logger,
      pollIntervalMs: 50,
      retryInitialMs: 60_000,
      ...opts,
    },
    { http01: servers.http01, tlsAlpn01: servers.tlsAlpn01 },
  );
  managers.push(manager);
  const changes: Harness['changes'] = [];
  manager.onChange((domains, cert) => changes.push({ domains, cert }));
  return { manager, scheduler, clock, lines, changes, storageFile };
}

/** Starts the manager, asks for `domains` and waits until the attempt is over (its next timer is set). */
async function obtain(h: Harness, domains: string[]): Promise<number> {
  const mark = h.scheduler.sets;
  h.manager.start();
  h.manager.ensure(domains);
  return h.scheduler.armedAfter(mark);
}

function failures(h: Harness): LogRecord[] {
  return h.lines.filter((l) => l.msg === 'acme certificate request failed');
}

const noPebble = PEBBLE_SKIP;

describe('CertificateManager against pebble', { skip: noPebble }, () => {
  const servers = new ChallengeServers();
  let ca: Pebble;

  before(async () => {
    await servers.listen();
    // One hour: short enough that the renewal point is the "a third of the lifetime" rule.
    ca = await startPebble({
      httpPort: servers.httpPort,
      tlsPort: servers.tlsPort,
      certificateValidityPeriod: 3600,
    });
  });

  after(async () => {
    for (const m of managers) m.stop();
    await ca?.close();
    await servers.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('obtains a certificate with http-01 whose chain verifies against pebble’s root', async () => {
    const h = harness(servers, ca, { challenge: 'http-01' });
    await obtain(h, ['web.example.com', 'www.example.com']);
    assert.deepEqual(failures(h), [], ca.output());
    assert.equal(h.changes.length, 1);
    const cert = h.manager.certificateFor('www.example.com');
    assert.ok(cert);
    assert.equal(h.manager.certificateFor('WEB.example.com'), cert);
    assert.equal(h.manager.certificateFor('other.example.com'), undefined);
    assertChainVerifies(cert.certPem, await ca.rootCertificate(), ['web.example.com', 'www.example.com']);
    assert.equal(servers.http01.size, 0, 'tokens withdrawn after validation');
  });

  it('keeps what it obtained in a 0600 storage file and serves it after a restart without asking the CA', async () => {
    const h = harness(servers, ca, { challenge: 'http-01' });
    await obtain(h, ['stored.example.com']);
    const issued = h.manager.certificateFor('stored.example.com');
    assert.ok(issued);
    h.manager.stop();
    assert.equal(statSync(h.storageFile).mode & 0o777, 0o600);
    assert.match(readFileSync(h.storageFile, 'utf8'), /"main": "stored.example.com"/);

    const requests: string[] = [];
    const refuse: AcmeTransport = {
      send: async (r) => {
        requests.push(r.url);
        throw new Error('the CA must not be asked');
      },
      close: () => {},
    };
    const again = harness(servers, ca, {
      challenge: 'http-01',
      storageFile: h.storageFile,
      transport: refuse,
    });
    const mark = again.scheduler.sets;
    again.manager.start();
    again.manager.ensure(['stored.example.com']);
    await again.scheduler.armedAfter(mark);
    assert.deepEqual(again.manager.certificateFor('stored.example.com'), issued);
    assert.deepEqual(requests, []);
  });

  it('obtains a certificate with tls-alpn-01', async () => {
    const h = harness(servers, ca, { challenge: 'tls-alpn-01' });
    await obtain(h, ['alpn.example.com']);
    assert.deepEqual(failures(h), [], ca.output());
    const cert = h.manager.certificateFor('alpn.example.com');
    assert.ok(cert);
    assertChainVerifies(cert.certPem, await ca.rootCertificate(), ['alpn.example.com']);
    assert.equal(servers.tlsAlpn01.size, 0, 'challenge certificate withdrawn after validation');
  });

  it('obtains a wildcard certificate with dns-01 through challtestsrv', async () => {
    const h = harness(servers, ca, {
      challenge: 'dns-01',
      dnsProvider: new ChallTestSrvDnsProvider(ca.dnsManagementUrl),
    });
    await obtain(h, ['*.dns.example.com', 'dns.example.com']);
    assert.deepEqual(failures(h), [], ca.output());
    const cert = h.manager.certificateFor('api.dns.example.com');
    assert.ok(cert, 'the wildcard serves a name below it');
    assert.equal(h.manager.certificateFor('dns.example.com'), cert);
    assert.equal(h.manager.certificateFor('a.b.dns.example.com'), undefined, 'a wildcard covers one label');
    assertChainVerifies(cert.certPem, await ca.rootCertificate(), ['api.dns.example.com', 'dns.example.com']);
  });

  it("answers tls-alpn-01 when both httpChallenge and tlsChallenge are set, as lego's chooseSolver", async () => {
    const h = harness(servers, ca, { challenge: ['http-01', 'tls-alpn-01'] });
    await obtain(h, ['both.example.com']);
    assert.deepEqual(failures(h), [], ca.output());
    assert.ok(h.manager.certificateFor('both.example.com'));
    const answered = h.lines.filter((l) => l.msg === 'acme challenge ready').map((l) => l['type']);
    assert.deepEqual(answered, ['tls-alpn-01']);
  });

  it('answers http-01 for a name and dns-01 for a wildcard with httpChallenge and dnsChallenge', async () => {
    const h = harness(servers, ca, {
      challenge: ['http-01', 'dns-01'],
      dnsProvider: new ChallTestSrvDnsProvider(ca.dnsManagementUrl),
    });
    await obtain(h, ['*.mixed.example.com', 'mixed.example.com']);
    assert.deepEqual(failures(h), [], ca.output());
    assert.ok(h.manager.certificateFor('api.mixed.example.com'));
    const answered = h.lines
      .filter((l) => l.msg === 'acme challenge ready')
      .map((l) => `${String(l['name'])} ${String(l['type'])}`)
      .sort();
    assert.deepEqual(answered, ['*.mixed.example.com dns-01', 'mixed.example.com http-01']);
  });

  it('renews when a third of a short lifetime is left, replacing the certificate and telling listeners', async () => {
    const h = harness(servers, ca, { challenge: 'http-01' });
    const delay = await obtain(h, ['renew.example.com']);
    const first = h.manager.certificateFor('renew.example.com');
    assert.ok(first);
    const info = certificateInfo(first.certPem);
    const lifetime = info.notAfter.getTime() - info.notBefore.getTime();
    const renewAt = Math.floor(info.notAfter.getTime() - lifetime / 3);
    assert.equal(h.manager.status()[0]?.renewAt?.getTime(), renewAt);
    assert.equal(delay, renewAt - h.clock.wall, 'the timer is set for the renewal point');

    h.clock.wall = renewAt + 1;
    const mark = h.scheduler.sets;
    h.scheduler.fire();
    await h.scheduler.armedAfter(mark);
    assert.deepEqual(failures(h), [], ca.output());
    const second = h.manager.certificateFor('renew.example.com');
    assert.ok(second);
    assert.notEqual(certificateInfo(second.certPem).fingerprint256, info.fingerprint256);
    // Traefik's renewCertificates hands lego the stored key: the renewed certificate has it.
    assert.equal(second.keyPem, first.keyPem, 'the renewal certifies the same key');
    assert.ok(new X509Certificate(second.certPem).checkPrivateKey(createPrivateKey(first.keyPem)));
    assert.equal(h.changes.length, 2);
    assert.equal(h.changes[1]?.cert.certPem, second.certPem);
    assert.deepEqual(h.changes[1]?.domains, ['renew.example.com']);
    assert.ok(h.lines.some((l) => l.msg === 'acme certificate renewed'));
    assert.match(
      readFileSync(h.storageFile, 'utf8'),
      new RegExp(Buffer.from(second.certPem).toString('base64').slice(0, 60)),
    );
  });
});

describe('CertificateManager when pebble misbehaves', { skip: noPebble }, () => {
  const servers = new ChallengeServers();
  const pebbles: Pebble[] = [];

  before(() => servers.listen());
  after(async () => {
    for (const m of managers) m.stop();
    for (const p of pebbles) await p.close();
    await servers.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  // 40 %: the client retries a badNonce 10 times, so a POST fails when 11 nonces in a row are
  // rejected (0.4^11 per POST, ~1e-4 over the ~20 POSTs of an issuance; at 50 % it was ~1 % of
  // runs), and no rejection at all over those POSTs is as unlikely (0.6^20).
  it('still issues when 40 % of all good nonces are rejected', async () => {
    const ca = await startPebble({ httpPort: servers.httpPort, tlsPort: servers.tlsPort, nonceReject: 40 });
    pebbles.push(ca);
    const inner = httpsTransport({ caCertificates: ca.serverCaPem });
    let badNonces = 0;
    const counting: AcmeTransport = {
      send: async (r) => {
        const res = await inner.send(r);
        if (res.status === 400 && res.body.includes('badNonce')) badNonces++;
        return res;
      },
      close: () => inner.close(),
    };
    const h = harness(servers, ca, { challenge: 'http-01', transport: counting });
    await obtain(h, ['nonce.example.com']);
    assert.deepEqual(failures(h), [], ca.output());
    assert.ok(badNonces > 0, 'pebble rejected some nonces');
    const cert = h.manager.certificateFor('nonce.example.com');
    assert.ok(cert);
    assertChainVerifies(cert.certPem, await ca.rootCertificate(), ['nonce.example.com']);
  });

  it('keeps serving the current certificate when the CA goes down mid-order, backs off, and succeeds later', async () => {
    const ca = await startPebble({
      httpPort: servers.httpPort,
      tlsPort: servers.tlsPort,
      certificateValidityPeriod: 3600,
    });
    pebbles.push(ca);
    const h = harness(servers, ca, { challenge: 'http-01', retryInitialMs: 60_000 });
    await obtain(h, ['down.example.com']);
    const current = h.manager.certificateFor('down.example.com');
    assert.ok(current);
    const renewAt = h.manager.status()[0]?.renewAt?.getTime() ?? 0;
    // The renewal must be validated, so that the CA can die during it. Pebble reuses the
    // account's valid authorization now and then even with PEBBLE_AUTHZREUSE=0 (see
    // test/helpers/pebble.ts), and then no validator comes; a restarted pebble holds none.
    await ca.stop();
    await ca.start();

    // Renewal starts (registering the account again); the CA dies while its validator is
    // fetching our token.
    let killed: Promise<void> | undefined;
    servers.onValidation = () => {
      servers.onValidation = undefined;
      killed = ca.stop();
    };
    h.clock.wall = renewAt + 1;
    let mark = h.scheduler.sets;
    const renewalLines = h.lines.length;
    h.scheduler.fire();
    let delay = await h.scheduler.armedAfter(mark);
    await killed;
    assert.ok(
      killed,
      `the validator reached us before the CA went down; the renewal logged:\n${h.lines
        .slice(renewalLines)
        .map((l) => JSON.stringify(l))
        .join('\n')}\n${ca.output().split('\n').slice(-40).join('\n')}`,
    );
    assert.equal(failures(h).length, 1);
    assert.equal(failures(h)[0]?.servingCurrent, true);
    assert.equal(delay, 60_000, 'first retry after the initial backoff');
    assert.equal(
      h.manager.certificateFor('down.example.com'),
      current,
      'the current certificate still serves',
    );

    // Still down: the next attempt fails too and the delay doubles; one timer, no storm.
    h.clock.wall += delay;
    mark = h.scheduler.sets;
    h.scheduler.fire();
    delay = await h.scheduler.armedAfter(mark);
    assert.equal(failures(h).length, 2);
    assert.equal(delay, 120_000);
    assert.equal(h.scheduler.pending, 1);
    assert.equal(h.manager.status()[0]?.failures, 2);

    // Back up (a fresh pebble: new root, no accounts): the retry registers again and succeeds.
    await ca.start();
    h.clock.wall += delay;
    mark = h.scheduler.sets;
    h.scheduler.fire();
    await h.scheduler.armedAfter(mark);
    assert.equal(failures(h).length, 2, ca.output());
    const renewed = h.manager.certificateFor('down.example.com');
    assert.ok(renewed);
    assert.notEqual(renewed, current);
    assertChainVerifies(renewed.certPem, await ca.rootCertificate(), ['down.example.com']);
    assert.equal(h.changes.length, 2);
    assert.equal(h.manager.status()[0]?.failures, 0);
    assert.equal(
      h.lines.filter((l) => l.msg === 'acme account unknown to the CA; registering again').length,
      2,
      'registered again with the restarted pebble, then with the one that came back',
    );
    // The frozen clock is now minutes past the new certificate's renewal point too: renewing it
    // again at once would loop, so the manager waits the initial backoff instead.
    assert.ok(h.lines.some((l) => l.msg.startsWith('acme certificate was due for renewal as soon as')));
    assert.equal(h.scheduler.pending, 1);
    assert.equal(h.manager.status()[0]?.nextAttemptAt?.getTime(), h.clock.wall + 60_000);
  });
});

describe("CertificateManager with Traefik v3's resolver options against pebble", { skip: noPebble }, () => {
  const servers = new ChallengeServers();
  let ca: Pebble;
  // A MAC key as CAs hand them out: 48 random bytes, base64url without padding.
  const EAB_KID = 'kid-1';
  const EAB_HMAC = Buffer.from('traffic-management external account binding key!').toString('base64url');

  before(async () => {
    await servers.listen();
    ca = await startPebble({
      httpPort: servers.httpPort,
      tlsPort: servers.tlsPort,
      externalAccountMACKeys: { [EAB_KID]: EAB_HMAC },
      alternateRoots: 1,
    });
  });

  after(async () => {
    for (const m of managers) m.stop();
    await ca?.close();
    await servers.close();
  });

  it('registers with external account binding (eab) where the CA requires it, then obtains', async () => {
    const h = harness(servers, ca, { challenge: 'http-01', eab: { kid: EAB_KID, hmacEncoded: EAB_HMAC } });
    await obtain(h, ['eab.example.com']);
    assert.deepEqual(failures(h), [], ca.output());
    assert.ok(h.manager.certificateFor('eab.example.com'));
    assert.ok(h.lines.some((l) => l.msg === 'acme account registered'));
  });

  it('is refused by such a CA without eab, or with a MAC key the CA does not know', async () => {
    const none = harness(servers, ca, { challenge: 'http-01' });
    await obtain(none, ['no-eab.example.com']);
    assert.equal(failures(none)[0]?.['acmeType'], 'urn:ietf:params:acme:error:externalAccountRequired');
    assert.equal(none.manager.certificateFor('no-eab.example.com'), undefined);

    const wrong = harness(servers, ca, {
      challenge: 'http-01',
      eab: { kid: EAB_KID, hmacEncoded: Buffer.from('another key entirely, unknown').toString('base64url') },
    });
    await obtain(wrong, ['wrong-eab.example.com']);
    assert.equal(failures(wrong).length, 1);
    assert.equal(wrong.manager.certificateFor('wrong-eab.example.com'), undefined);
  });

  /** The common name of pebble's root `index` (the default chain's is 0, the alternate's 1). */
  async function rootName(index: number): Promise<string> {
    const subject = new X509Certificate(await ca.rootCertificate(index)).subject;
    return /^CN=(.*)$/m.exec(subject)?.[1] ?? '';
  }

  it('serves the alternate chain whose root is named by preferredChain, and the default otherwise', async () => {
    const alternate = await rootName(1);
    const eab = { kid: EAB_KID, hmacEncoded: EAB_HMAC };
    const preferred = harness(servers, ca, { challenge: 'http-01', eab, preferredChain: alternate });
    await obtain(preferred, ['chain.example.com']);
    assert.deepEqual(failures(preferred), [], ca.output());
    const chosen = preferred.manager.certificateFor('chain.example.com');
    assert.ok(chosen);
    assertChainVerifies(chosen.certPem, await ca.rootCertificate(1), ['chain.example.com']);
    assert.ok(preferred.lines.some((l) => l.msg === 'acme certificate chain chosen by preferredChain'));

    for (const name of [await rootName(0), 'ISRG Root X1']) {
      const h = harness(servers, ca, { challenge: 'http-01', eab, preferredChain: name });
      await obtain(h, ['default-chain.example.com']);
      assert.deepEqual(failures(h), [], ca.output());
      const cert = h.manager.certificateFor('default-chain.example.com');
      assert.ok(cert);
      assertChainVerifies(cert.certPem, await ca.rootCertificate(0), ['default-chain.example.com']);
    }
  });
});

describe("CertificateManager's renewal point for Traefik's certificatesDuration, against pebble", {
  skip: noPebble,
}, () => {
  const servers = new ChallengeServers();
  let ca: Pebble;
  const DAY = 86_400_000;

  before(async () => {
    await servers.listen();
    // Seven days, as Let's Encrypt's short-lived profile: long enough that Traefik's renew
    // period, not the third of the lifetime, decides.
    ca = await startPebble({
      httpPort: servers.httpPort,
      tlsPort: servers.tlsPort,
      certificateValidityPeriod: 7 * 86_400,
    });
  });

  after(async () => {
    for (const m of managers) m.stop();
    await ca?.close();
    await servers.close();
  });

  /** The renewal point the manager chose for a certificate of `name` and its notAfter. */
  async function renewal(
    name: string,
    certificatesDuration?: number,
  ): Promise<{ at: number; notAfter: number }> {
    const h = harness(servers, ca, {
      challenge: 'http-01',
      ...(certificatesDuration === undefined ? {} : { certificatesDuration }),
    });
    const delay = await obtain(h, [name]);
    assert.deepEqual(failures(h), [], ca.output());
    const cert = h.manager.certificateFor(name);
    assert.ok(cert);
    const notAfter = certificateInfo(cert.certPem).notAfter.getTime();
    const at = h.manager.status()[0]?.renewAt?.getTime() ?? 0;
    // The timer wakes at the renewal point, or in 12 hours to look at the wall clock again.
    assert.equal(delay, Math.min(at - h.clock.wall, 12 * 3_600_000));
    return { at, notAfter };
  }

  it("renews a day ahead with certificatesDuration: 168, as Traefik's getCertificateRenewDurations", async () => {
    const r = await renewal('week.example.com', 168);
    assert.equal(r.at, r.notAfter - DAY);
  });

  it('renews six hours ahead with certificatesDuration: 24', async () => {
    const r = await renewal('day.example.com', 24);
    assert.equal(r.at, r.notAfter - 6 * 3_600_000);
  });
});
