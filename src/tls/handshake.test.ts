/**
 * Real handshakes against the pieces wired the way a listener must wire them: a plain net.Server
 * reads the ClientHello, picks the options set by SNI, and hands the socket to that set's
 * (never listening) tls.Server, whose SNICallback takes certificates from the store. Clients are
 * node's tls and the openssl command line.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server as NetServer, connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  type ConnectionOptions,
  connect,
  createServer as createTlsServer,
  type Server,
  type TLSSocket,
} from 'node:tls';
import { type TlsOptionsInput, tlsOptionsSchema } from '../config/dynamic/tls.ts';
import { CertStore, GeneratedDefaultCertificate, type StoredCertificate } from './cert-store.ts';
import { parseClientHello, type RouterTlsNeed, TlsRouter } from './sni.ts';
import {
  type CompiledTlsOptions,
  checkClientCert,
  compileTlsOptions,
  tlsServerOptions,
} from './tls-options.ts';
import { selfSignedCertificate } from './x509/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'tls-handshake-'));

function openssl(args: string[]): void {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

/** A CA and a client certificate it signed (extendedKeyUsage clientAuth), by the openssl CLI. */
function clientPki(name: string): { caPem: string; cert: string; key: string } {
  const p = (f: string) => join(dir, `${name}-${f}`);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl([
    'req',
    '-x509',
    ...ec,
    '-keyout',
    p('ca.key'),
    '-out',
    p('ca.pem'),
    '-days',
    '2',
    '-subj',
    `/CN=${name} CA`,
  ]);
  openssl(['req', ...ec, '-keyout', p('client.key'), '-out', p('client.csr'), '-subj', `/CN=${name} client`]);
  writeFileSync(p('ext'), 'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature\n');
  openssl([
    'x509',
    '-req',
    '-in',
    p('client.csr'),
    '-CA',
    p('ca.pem'),
    '-CAkey',
    p('ca.key'),
    '-CAcreateserial',
    '-out',
    p('client.pem'),
    '-days',
    '2',
    '-extfile',
    p('ext'),
  ]);
  return { caPem: readFileSync(p('ca.pem'), 'utf8'), cert: p('client.pem'), key: p('client.key') };
}

const trusted = clientPki('trusted');
const stranger = clientPki('stranger');

function compile(name: string, input: TlsOptionsInput, caPems: string[] = []): CompiledTlsOptions {
  const r = compileTlsOptions(name, tlsOptionsSchema.parse(input), caPems);
  assert.ok('options' in r, JSON.stringify(r));
  return r.options;
}

interface Front {
  readonly port: number;
  readonly refusals: string[];
  close(): Promise<void>;
}

/** The reference wiring (what the HTTPS listener does), answering each accepted handshake with its facts. */
async function startFront(
  store: CertStore,
  options: ReadonlyMap<string, CompiledTlsOptions>,
  router: TlsRouter,
): Promise<Front> {
  const refusals: string[] = [];
  const servers = new Map<CompiledTlsOptions, Map<StoredCertificate, Server>>();
  const serverFor = (o: CompiledTlsOptions, fallback: StoredCertificate): Server => {
    let byCert = servers.get(o);
    if (byCert === undefined) {
      byCert = new Map();
      servers.set(o, byCert);
    }
    let server = byCert.get(fallback);
    if (server === undefined) {
      server = createTlsServer(tlsServerOptions(o, store, fallback));
      server.on('secureConnection', (s: TLSSocket) => {
        const refused = checkClientCert(s, o.clientAuthType);
        if (refused !== undefined) {
          refusals.push(refused.reason);
          s.destroy();
          return;
        }
        const facts = {
          options: o.name,
          sni: s.servername,
          alpn: s.alpnProtocol,
          protocol: s.getProtocol(),
          cipher: s.getCipher().name,
          peer: s.getPeerX509Certificate()?.subject ?? null,
        };
        s.end(JSON.stringify(facts));
      });
      server.on('tlsClientError', (err) => refusals.push(err.message));
      byCert.set(fallback, server);
    }
    return server;
  };
  const sockets = new Set<Socket>();
  const front: NetServer = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      const hello = parseClientHello(buf);
      if (hello.kind === 'incomplete') return;
      socket.off('data', onData);
      socket.pause();
      if (hello.kind === 'invalid') {
        refusals.push(hello.reason);
        socket.destroy();
        return;
      }
      const o = options.get(router.optionsFor(hello.serverName));
      let fallback = store.defaultCertificate;
      if (o !== undefined && hello.serverName === undefined) {
        const found = store.lookup(undefined, o, socket.localAddress);
        if (found === undefined) {
          refusals.push('strict SNI: no SNI');
          socket.destroy();
          return;
        }
        fallback = found.certificate;
      }
      if (o === undefined) {
        socket.destroy();
        return;
      }
      socket.unshift(buf);
      serverFor(o, fallback).emit('connection', socket);
    };
    socket.on('data', onData);
    socket.on('error', () => {});
  });
  front.listen(0, '127.0.0.1');
  await once(front, 'listening');
  return {
    port: (front.address() as { port: number }).port,
    refusals,
    close: async () => {
      for (const s of sockets) s.destroy();
      front.close();
      await once(front, 'close');
    },
  };
}

interface Outcome {
  /** The server's facts when it accepted the connection and spoke. */
  readonly facts:
    | {
        options: string;
        sni: string | false;
        alpn: string | false;
        protocol: string;
        cipher: string;
        peer: string | null;
      }
    | undefined;
  readonly served: string | undefined;
  readonly error: string | undefined;
  readonly reused: boolean;
  /** The last session (ticket) the server gave, to resume with. */
  readonly session: Buffer | undefined;
}

function nodeClient(port: number, opts: ConnectionOptions): Promise<Outcome> {
  return new Promise((resolve) => {
    const c = connect({ port, host: '127.0.0.1', rejectUnauthorized: false, ...opts });
    let data = '';
    let error: string | undefined;
    let served: string | undefined;
    let reused = false;
    let session: Buffer | undefined;
    c.on('secureConnect', () => {
      served = c.getPeerX509Certificate()?.subjectAltName ?? c.getPeerX509Certificate()?.subject;
      reused = c.isSessionReused();
    });
    c.on('session', (s: Buffer) => {
      session = s;
    });
    c.setEncoding('utf8');
    c.on('data', (d: string) => {
      data += d;
    });
    c.on('error', (e) => {
      error = e.message;
    });
    c.on('close', () =>
      resolve({ facts: data === '' ? undefined : JSON.parse(data), served, error, reused, session }),
    );
  });
}

async function opensslClient(port: number, args: string[]): Promise<string> {
  const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stdin.end();
  await once(child, 'close');
  return out;
}

const certs = {
  a: selfSignedCertificate(['a.example']),
  wild: selfSignedCertificate(['*.wild.example']),
  secure: selfSignedCertificate(['secure.example']),
  modern: selfSignedCertificate(['modern.example']),
  ip: selfSignedCertificate(['127.0.0.1']),
};
const generated = new GeneratedDefaultCertificate();
const built = CertStore.build(
  Object.entries(certs).map(([source, c]) => ({ ...c, source })),
  undefined,
  { generated },
);
const store = built.store;

const needs: Record<string, RouterTlsNeed> = {
  secure: { options: 'mtls', domains: ['secure.example'] },
  ifGiven: { options: 'ifGiven', domains: ['given.example'] },
  any: { options: 'any', domains: ['any.example'] },
  request: { options: 'request', domains: ['request.example'] },
  modern: { options: 'tls13', domains: ['modern.example'] },
  h2only: { options: 'h2only', domains: ['h2.example'] },
  noAlpn: { options: 'noAlpn', domains: ['h1.example'] },
  suites: { options: 'suites', domains: ['suites.example'] },
  curves: { options: 'curves', domains: ['curves.example'] },
  hybrid: { options: 'hybrid', domains: ['hybrid.example'] },
  legacy: { options: 'legacy', domains: ['legacy.example'] },
};
const optionSets = new Map<string, CompiledTlsOptions>(
  [
    compile('default', {}),
    compile('mtls', { clientAuth: { caFiles: ['ca'], clientAuthType: 'RequireAndVerifyClientCert' } }, [
      trusted.caPem,
    ]),
    compile('ifGiven', { clientAuth: { caFiles: ['ca'], clientAuthType: 'VerifyClientCertIfGiven' } }, [
      trusted.caPem,
    ]),
    compile('any', { clientAuth: { clientAuthType: 'RequireAnyClientCert' } }),
    compile('request', { clientAuth: { clientAuthType: 'RequestClientCert' } }),
    compile('tls13', { minVersion: 'VersionTLS13' }),
    compile('h2only', { alpnProtocols: ['h2'] }),
    compile('noAlpn', { alpnProtocols: [] }),
    compile('suites', {
      maxVersion: 'VersionTLS12',
      cipherSuites: ['TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384'],
    }),
    compile('curves', { curvePreferences: ['CurveP384'] }),
    // Go 1.26's names, as Traefik's CurveIDs spell them (lower and upper camel case).
    compile('hybrid', { curvePreferences: ['secp256r1mlkem768', 'SecP384r1MLKEM1024', 'x25519mlkem768'] }),
    compile('legacy', { minVersion: 'VersionTLS11' }),
  ].map((o) => [o.name, o]),
);
const router = TlsRouter.build(new Map(Object.entries(needs))).router;

const client = (c: { cert: string; key: string }) => ({
  cert: readFileSync(c.cert),
  key: readFileSync(c.key),
});

describe('TLS handshakes', { timeout: 30_000 }, () => {
  let front: Front;
  before(async () => {
    assert.deepEqual(built.issues, []);
    front = await startFront(store, optionSets, router);
  });
  after(async () => {
    await front.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('certificate by SNI', () => {
    it('serves the certificate named by the SNI (openssl s_client)', async () => {
      assert.match(
        await opensslClient(front.port, ['-servername', 'a.example']),
        /^subject=CN = a\.example$/m,
      );
      assert.match(
        await opensslClient(front.port, ['-servername', 'secure.example']),
        /^subject=CN = secure\.example$/m,
      );
    });

    it('serves a wildcard certificate for one label under it (node client)', async () => {
      const r = await nodeClient(front.port, { servername: 'api.wild.example' });
      assert.equal(r.served, 'DNS:*.wild.example');
      assert.equal(r.facts?.sni, 'api.wild.example');
    });

    it('serves the default certificate for an unknown name', async () => {
      const r = await nodeClient(front.port, { servername: 'nothing.example' });
      assert.match(r.served ?? '', /^DNS:[0-9a-f]{32}\.[0-9a-f]{32}\.traefik\.default$/);
    });

    it('serves the IP certificate to a client without SNI connecting to that address', async () => {
      const r = await nodeClient(front.port, { servername: '' });
      assert.equal(r.facts?.sni, false);
      assert.equal(r.served, 'IP Address:127.0.0.1');
    });
  });

  describe('protocol versions', () => {
    it('refuses TLS 1.1 by default (openssl s_client -tls1_1)', async () => {
      const out = await opensslClient(front.port, [
        '-servername',
        'a.example',
        '-tls1_1',
        '-cipher',
        'DEFAULT@SECLEVEL=0',
      ]);
      assert.match(out, /alert protocol version/);
      assert.doesNotMatch(out, /^subject=/m);
    });

    it('accepts TLS 1.1 where minVersion allows it, so the refusal above is the policy', async () => {
      const out = await opensslClient(front.port, [
        '-servername',
        'legacy.example',
        '-tls1_1',
        '-cipher',
        'DEFAULT@SECLEVEL=0',
      ]);
      assert.match(out, /^ {4}Protocol {2}: TLSv1\.1$/m);
      assert.match(out, /"options":"legacy".*"protocol":"TLSv1\.1","cipher":"ECDHE-ECDSA-AES128-SHA"/);
    });

    it('applies minVersion per SNI: TLS 1.2 is refused on a TLS 1.3-only host and accepted elsewhere', async () => {
      const refused = await nodeClient(front.port, { servername: 'modern.example', maxVersion: 'TLSv1.2' });
      assert.equal(refused.facts, undefined);
      assert.match(refused.error ?? '', /protocol version/);
      const accepted = await nodeClient(front.port, { servername: 'a.example', maxVersion: 'TLSv1.2' });
      assert.equal(accepted.facts?.protocol, 'TLSv1.2');
      const modern = await nodeClient(front.port, { servername: 'modern.example' });
      assert.deepEqual(
        [modern.facts?.protocol, modern.facts?.options, modern.served],
        ['TLSv1.3', 'tls13', 'DNS:modern.example'],
      );
    });
  });

  describe('cipher suites and curves', () => {
    it('offers only AEAD suites on TLS 1.2 by default', async () => {
      const cbc = await nodeClient(front.port, {
        servername: 'a.example',
        maxVersion: 'TLSv1.2',
        ciphers: 'ECDHE-ECDSA-AES128-SHA',
      });
      assert.equal(cbc.facts, undefined);
      const gcm = await nodeClient(front.port, {
        servername: 'a.example',
        maxVersion: 'TLSv1.2',
        ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256',
      });
      assert.equal(gcm.facts?.cipher, 'ECDHE-ECDSA-AES128-GCM-SHA256');
    });

    it('keeps to the configured suites', async () => {
      const other = await nodeClient(front.port, {
        servername: 'suites.example',
        ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256',
      });
      assert.equal(other.facts, undefined);
      const listed = await nodeClient(front.port, { servername: 'suites.example' });
      assert.deepEqual(
        [listed.facts?.protocol, listed.facts?.cipher],
        ['TLSv1.2', 'ECDHE-ECDSA-AES256-GCM-SHA384'],
      );
    });

    it('keeps to the configured curves', async () => {
      const p256 = await nodeClient(front.port, { servername: 'curves.example', ecdhCurve: 'P-256' });
      assert.equal(p256.facts, undefined);
      const p384 = await nodeClient(front.port, { servername: 'curves.example', ecdhCurve: 'P-384:P-256' });
      assert.equal(p384.facts?.options, 'curves');
    });

    it("keeps to Go's post-quantum hybrid groups when they are configured", async () => {
      const classic = await nodeClient(front.port, {
        servername: 'hybrid.example',
        ecdhCurve: 'X25519:P-256',
      });
      assert.equal(classic.facts, undefined);
      for (const group of ['SecP256r1MLKEM768', 'SecP384r1MLKEM1024', 'X25519MLKEM768']) {
        const r = await nodeClient(front.port, { servername: 'hybrid.example', ecdhCurve: group });
        assert.equal(r.facts?.options, 'hybrid', group);
      }
    });
  });

  describe('ALPN', () => {
    it('negotiates h2 first, http/1.1 for HTTP/1.1 clients, nothing for clients without ALPN', async () => {
      assert.equal(
        (await nodeClient(front.port, { servername: 'a.example', ALPNProtocols: ['h2', 'http/1.1'] })).facts
          ?.alpn,
        'h2',
      );
      assert.equal(
        (await nodeClient(front.port, { servername: 'a.example', ALPNProtocols: ['http/1.1'] })).facts?.alpn,
        'http/1.1',
      );
      assert.equal((await nodeClient(front.port, { servername: 'a.example' })).facts?.alpn, false);
      assert.match(
        await opensslClient(front.port, ['-servername', 'a.example', '-alpn', 'h2']),
        /^ALPN protocol: h2$/m,
      );
    });

    it('refuses a client with no protocol in common (no_application_protocol)', async () => {
      const r = await nodeClient(front.port, { servername: 'a.example', ALPNProtocols: ['spdy/3'] });
      assert.equal(r.facts, undefined);
      assert.match(r.error ?? '', /no application protocol/);
    });

    it('applies the options set of the SNI: h2-only lets HTTP/1.1 clients in as Go does, an empty list negotiates nothing', async () => {
      assert.equal(
        (await nodeClient(front.port, { servername: 'h2.example', ALPNProtocols: ['http/1.1'] })).facts?.alpn,
        'http/1.1',
      );
      assert.equal(
        (await nodeClient(front.port, { servername: 'h2.example', ALPNProtocols: ['h2'] })).facts?.alpn,
        'h2',
      );
      assert.equal(
        (await nodeClient(front.port, { servername: 'h1.example', ALPNProtocols: ['h2', 'http/1.1'] })).facts
          ?.alpn,
        false,
      );
    });
  });

  describe('client certificates', () => {
    it('RequireAndVerifyClientCert refuses no certificate and one from another CA, accepts one from its CA', async () => {
      assert.equal((await nodeClient(front.port, { servername: 'secure.example' })).facts, undefined);
      assert.equal(
        (await nodeClient(front.port, { servername: 'secure.example', ...client(stranger) })).facts,
        undefined,
      );
      const ok = await nodeClient(front.port, { servername: 'secure.example', ...client(trusted) });
      assert.equal(ok.facts?.peer, 'CN=trusted client');
    });

    it('RequireAndVerifyClientCert refuses a stranger with openssl s_client too', async () => {
      const out = await opensslClient(front.port, [
        '-servername',
        'secure.example',
        '-cert',
        stranger.cert,
        '-key',
        stranger.key,
      ]);
      assert.doesNotMatch(out, /"peer":/);
      const good = await opensslClient(front.port, [
        '-servername',
        'secure.example',
        '-cert',
        trusted.cert,
        '-key',
        trusted.key,
      ]);
      assert.match(good, /^subject=CN = secure\.example$/m);
    });

    it('VerifyClientCertIfGiven accepts no certificate, refuses a bad one, accepts a good one', async () => {
      const none = await nodeClient(front.port, { servername: 'given.example' });
      assert.deepEqual([none.facts?.options, none.facts?.peer], ['ifGiven', null]);
      const bad = await nodeClient(front.port, { servername: 'given.example', ...client(stranger) });
      assert.equal(bad.facts, undefined);
      assert.ok(
        front.refusals.some((r) => r.startsWith('client certificate refused:')),
        front.refusals.join('; '),
      );
      const good = await nodeClient(front.port, { servername: 'given.example', ...client(trusted) });
      assert.equal(good.facts?.peer, 'CN=trusted client');
    });

    it('RequireAnyClientCert refuses no certificate and accepts any certificate', async () => {
      assert.equal((await nodeClient(front.port, { servername: 'any.example' })).facts, undefined);
      // With SNI, OpenSSL refuses it inside the handshake (certificate_required in TLS 1.3, as Go).
      assert.ok(
        front.refusals.some((r) => /peer did not return a certificate/.test(r)),
        front.refusals.join('; '),
      );
      const any = await nodeClient(front.port, { servername: 'any.example', ...client(stranger) });
      assert.equal(any.facts?.peer, 'CN=stranger client');
    });

    it('RequestClientCert accepts with or without a certificate', async () => {
      assert.equal((await nodeClient(front.port, { servername: 'request.example' })).facts?.peer, null);
      assert.equal(
        (await nodeClient(front.port, { servername: 'request.example', ...client(stranger) })).facts?.peer,
        'CN=stranger client',
      );
    });

    it('NoClientCert does not ask for a certificate', async () => {
      const r = await nodeClient(front.port, { servername: 'a.example', ...client(trusted) });
      assert.deepEqual([r.facts?.options, r.facts?.peer], ['default', null]);
    });
  });

  describe('session resumption', () => {
    for (const maxVersion of ['TLSv1.2', 'TLSv1.3'] as const) {
      it(`resumes within one options set but never into another (${maxVersion})`, async () => {
        const first = await nodeClient(front.port, { servername: 'a.example', maxVersion });
        assert.ok(first.session !== undefined);
        const again = await nodeClient(front.port, {
          servername: 'a.example',
          maxVersion,
          session: first.session,
        });
        assert.deepEqual([again.reused, again.facts?.options], [true, 'default']);
        // A session from a host without client authentication must not skip it on an mTLS host.
        const mtls = await nodeClient(front.port, {
          servername: 'secure.example',
          maxVersion,
          session: first.session,
        });
        assert.deepEqual([mtls.reused, mtls.facts], [false, undefined]);
        const other = await nodeClient(front.port, { servername: 'modern.example', session: first.session });
        assert.equal(other.reused, false);
      });
    }
  });

  describe('sniStrict', () => {
    let strict: Front;
    before(async () => {
      strict = await startFront(
        store,
        new Map([['default', compile('default', { sniStrict: true })]]),
        TlsRouter.build(new Map()).router,
      );
    });
    after(() => strict.close());

    it('accepts a name with a certificate and refuses unknown names', async () => {
      assert.equal((await nodeClient(strict.port, { servername: 'a.example' })).served, 'DNS:a.example');
      const unknown = await nodeClient(strict.port, { servername: 'nothing.example' });
      assert.deepEqual([unknown.facts, unknown.served], [undefined, undefined]);
    });

    it('refuses a handshake without SNI unless the local address has a certificate', async () => {
      assert.equal((await nodeClient(strict.port, { servername: '' })).served, 'IP Address:127.0.0.1');
      const storeWithoutIp = CertStore.build([{ ...certs.a, source: 'a' }], undefined, { generated }).store;
      const noIp = await startFront(
        storeWithoutIp,
        new Map([['default', compile('default', { sniStrict: true })]]),
        router,
      );
      try {
        const r = await nodeClient(noIp.port, { servername: '' });
        assert.deepEqual([r.facts, r.served], [undefined, undefined]);
        assert.deepEqual(noIp.refusals, ['strict SNI: no SNI']);
      } finally {
        await noIp.close();
      }
    });
  });

  it('closes a connection that speaks plain HTTP to the TLS port', async () => {
    const socket = netConnect(front.port, '127.0.0.1');
    socket.on('error', () => {});
    socket.resume();
    socket.write('GET / HTTP/1.1\r\nHost: a.example\r\n\r\n');
    await once(socket, 'close');
    assert.ok(front.refusals.includes('not a TLS handshake'));
  });
});
