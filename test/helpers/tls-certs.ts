/**
 * Certificates and TLS probes for the TLS termination e2e tests: throwaway CAs made with openssl
 * (the upstream tests' TestPki), self-signed certificates from src/tls/x509, one handshake that
 * reports what the server presented for an SNI (or why the handshake failed), `openssl s_client`,
 * and HTTP/1.1 written by hand over TLS.
 */
import { spawn } from 'node:child_process';
import { connect, type PeerCertificate, type TLSSocket } from 'node:tls';
import { resolveCommand } from './tools.ts';

export { type KeyAndCert, selfSignedCertificate } from '../../src/tls/x509/index.ts';
export { type Issued, TestPki } from '../../src/upstream/test-pki.ts';

export interface HandshakeOptions {
  readonly port: number;
  /** Absent: no SNI at all (node sends none to an IP literal). */
  readonly servername?: string;
  /** PEM trusted to verify the server; `authorized` reports the verdict, the handshake goes on. */
  readonly ca?: string;
  /** Client certificate and key (PEM). */
  readonly cert?: string;
  readonly key?: string;
  readonly alpn?: readonly string[];
  /** Safety net so a stuck server fails the test instead of hanging it. */
  readonly timeoutMs?: number;
}

export type Handshake =
  | {
      readonly ok: true;
      readonly subjectCN: string;
      /** The leaf's subjectAltName as node prints it (`DNS:a.test, IP Address:…`), or ''. */
      readonly subjectAltName: string;
      readonly issuerCN: string;
      readonly fingerprint256: string;
      readonly protocol: string | null;
      readonly alpn: string | false | null;
      readonly authorized: boolean;
      readonly authorizationError: string | null;
    }
  | { readonly ok: false; readonly error: string };

function cn(name: PeerCertificate['subject'] | undefined): string {
  const v = (name as { CN?: string | string[] } | undefined)?.CN;
  return Array.isArray(v) ? v.join(',') : (v ?? '');
}

/** One TLS handshake against 127.0.0.1:`port`; the connection is closed right after. */
export function handshake(opts: HandshakeOptions): Promise<Handshake> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (h: Handshake, s: TLSSocket): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve(h);
    };
    const s = connect({
      host: '127.0.0.1',
      port: opts.port,
      ...(opts.servername === undefined ? {} : { servername: opts.servername }),
      ...(opts.ca === undefined ? {} : { ca: opts.ca }),
      ...(opts.cert === undefined ? {} : { cert: opts.cert }),
      ...(opts.key === undefined ? {} : { key: opts.key }),
      ...(opts.alpn === undefined ? {} : { ALPNProtocols: [...opts.alpn] }),
      rejectUnauthorized: false,
    });
    const timer = setTimeout(() => finish({ ok: false, error: 'timeout' }, s), opts.timeoutMs ?? 5_000);
    s.once('secureConnect', () => {
      const peer = s.getPeerCertificate();
      finish(
        {
          ok: true,
          subjectCN: cn(peer.subject),
          subjectAltName: peer.subjectaltname ?? '',
          issuerCN: cn(peer.issuer),
          fingerprint256: peer.fingerprint256,
          protocol: s.getProtocol(),
          alpn: s.alpnProtocol,
          authorized: s.authorized,
          authorizationError: s.authorizationError === null ? null : String(s.authorizationError),
        },
        s,
      );
    });
    s.once('error', (e: NodeJS.ErrnoException) => finish({ ok: false, error: e.code ?? e.message }, s));
    s.once('close', () => finish({ ok: false, error: 'closed before the handshake completed' }, s));
  });
}

/** Runs a command (openssl, sslscan, h2load) to its end with stdin closed; stdout and stderr interleaved in `out`. */
export function run(
  cmd: string,
  args: readonly string[],
  timeoutMs = 20_000,
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(resolveCommand(cmd), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const add = (d: string): void => {
      out += d;
    };
    child.stdout.setEncoding('utf8').on('data', add);
    child.stderr.setEncoding('utf8').on('data', add);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

/** `openssl s_client` with the given flags; reports the negotiated version and suite, if any. */
export async function sClient(
  port: number,
  flags: readonly string[],
): Promise<{ code: number | null; protocol: string | null; cipher: string | null; out: string }> {
  const r = await run('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-brief', ...flags]);
  const protocol = /^Protocol version: (\S+)$/m.exec(r.out)?.[1] ?? null;
  const cipher = /^Ciphersuite: (\S+)$/m.exec(r.out)?.[1] ?? null;
  return { code: r.code, protocol, cipher, out: r.out };
}

/** HTTP/1.1 written by hand on a TLS connection opened with SNI `servername`. */
export function tlsRawRequest(port: number, servername: string, ca: string, head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s: TLSSocket = connect({ host: '127.0.0.1', port, servername, ca, ALPNProtocols: ['http/1.1'] });
    let text = '';
    const timer = setTimeout(() => s.destroy(new Error('no answer')), 10_000);
    s.on('secureConnect', () => s.write(head));
    s.setEncoding('utf8').on('data', (d: string) => {
      text += d;
    });
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
  });
}

/** What `sslscan --xml=-` found on a TLS port (the elements the edge rules are about). */
export interface SslscanReport {
  /** `SSLv2`, `SSLv3`, `TLSv1.0` … → enabled. */
  readonly protocols: ReadonlyMap<string, boolean>;
  /** Accepted (or preferred) suites as `TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256`. */
  readonly ciphers: readonly string[];
  /** Absent when sslscan could not tell. */
  readonly renegotiation: { readonly supported: boolean; readonly secure: boolean } | undefined;
  /** Absent when sslscan's OpenSSL cannot offer compression (Debian builds it without zlib). */
  readonly compression: boolean | undefined;
  /** Key exchange groups as `TLSv1.3 x25519`. */
  readonly groups: readonly string[];
  readonly heartbleed: readonly boolean[];
  readonly xml: string;
}

/** Runs sslscan 2.x against 127.0.0.1:`port` and reads its XML report. */
export async function sslscan(port: number, sni?: string): Promise<SslscanReport> {
  const args = [
    '--no-colour',
    '--xml=-',
    ...(sni === undefined ? [] : [`--sni-name=${sni}`]),
    `127.0.0.1:${port}`,
  ];
  const r = await run('sslscan', args, 60_000).catch((e: NodeJS.ErrnoException) => {
    throw e.code === 'ENOENT' ? new Error('sslscan is not installed: apt-get install -y sslscan') : e;
  });
  if (r.code !== 0 || !r.out.includes('</document>'))
    throw new Error(`sslscan failed (${r.code}):\n${r.out}`);
  const attrs = (tag: string): Record<string, string>[] =>
    [...r.out.matchAll(new RegExp(`<${tag}\\s([^>]*?)/?>`, 'g'))].map((m) =>
      Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((a) => [a[1]!, a[2]!])),
    );
  const protocols = new Map<string, boolean>();
  for (const p of attrs('protocol')) {
    const name = p['type'] === 'ssl' ? `SSLv${p['version']}` : `TLSv${p['version']}`;
    protocols.set(name, p['enabled'] === '1');
  }
  const reneg = attrs('renegotiation')[0];
  const comp = attrs('compression')[0];
  return {
    protocols,
    ciphers: attrs('cipher').map((c) => `${c['sslversion']} ${c['cipher']}`),
    renegotiation:
      reneg === undefined
        ? undefined
        : { supported: reneg['supported'] === '1', secure: reneg['secure'] === '1' },
    compression: comp === undefined ? undefined : comp['supported'] === '1',
    groups: attrs('group').map((g) => `${g['sslversion']} ${g['name']}`),
    heartbleed: attrs('heartbleed').map((h) => h['vulnerable'] === '1'),
    xml: r.out,
  };
}
