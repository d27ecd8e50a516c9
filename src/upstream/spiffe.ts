/**
 * SPIFFE: the proxy's X.509 identity from the SPIFFE Workload API, for serversTransports with
 * `spiffe` (Traefik: cmd/traefik/traefik.go setupServer creates a go-spiffe
 * workloadapi.X509Source from static `spiffe.workloadAPIAddr`; pkg/server/service/transport.go
 * and pkg/tcp/dialer.go build tlsconfig.MTLSClientConfig(source, source, authorizer) for a
 * transport's `spiffe`).
 *
 * The Workload API is gRPC: one server-streaming call `SpiffeWorkloadAPI/FetchX509SVID` with an
 * empty X509SVIDRequest and the `workload.spiffe.io: true` metadata, answered by an
 * X509SVIDResponse at start and at each rotation. We speak it over node:http2 with our own
 * protobuf reading (the gRPC frames as the OTLP gRPC exporter writes them), over a unix socket
 * (`unix:///path`) or TCP (`tcp://ip:port`), as go-spiffe's workloadapi addresses. The stream
 * is opened again (1 s, doubling to 30 s) when it ends or fails, keeping the last identity.
 *
 * As go-spiffe's X509Source: the first SVID of a response is ours (its certificate chain and
 * key are the client certificate); the bundle of its trust domain and the federated bundles are
 * the authorities a server's chain may end at. As tlsconfig.MTLSClientConfig's verification
 * (x509svid.ParseAndVerify, then the authorizer): the server's leaf must carry exactly one URI
 * SAN, a SPIFFE ID, must not be a CA, and its chain must reach a root of the bundle of that ID's
 * trust domain; no hostname check; then `ids` (one of them), else `trustDomain` (a member), else
 * any ID is accepted.
 *
 * Off the request path: a TLS connection's check is one walk of its chain.
 */
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import type { ClientHttp2Session, ClientHttp2Stream } from 'node:http2';
import type { PeerCertificate, SecureContext } from 'node:tls';
import type { Logger } from '../core/logger.ts';
import { uriSans } from './peer-cert-uri.ts';
import type { IdentityCheck, UpstreamTls } from './transport-tls.ts';

/** The code our refusals carry (tls-errors.ts turns it into UPSTREAM_TLS_PEER_URI). */
export const SPIFFE_REFUSED = 'ERR_TLS_SPIFFE_REFUSED';

/** A transport's `spiffe` (Traefik's dynamic.Spiffe): allowed IDs win over the trust domain. */
export interface SpiffeAuthorization {
  readonly ids?: readonly string[] | undefined;
  readonly trustDomain?: string | undefined;
}

// ---- SPIFFE IDs (go-spiffe spiffeid: lowercase trust domain of [a-z0-9.-_], path segments of
// [A-Za-z0-9.-_], none empty, `.` or `..`)

const TRUST_DOMAIN = /^[a-z0-9._-]+$/;
const SEGMENT = /^[A-Za-z0-9._-]+$/;

/** Why `id` is not a SPIFFE ID (go-spiffe spiffeid.FromString's reasons), or undefined. */
export function spiffeIdProblem(id: string): string | undefined {
  if (!id.startsWith('spiffe://')) return 'scheme is missing or invalid';
  const rest = id.slice('spiffe://'.length);
  const slash = rest.indexOf('/');
  const td = slash < 0 ? rest : rest.slice(0, slash);
  if (td === '') return 'trust domain is missing';
  if (!TRUST_DOMAIN.test(td))
    return 'trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores';
  if (slash < 0) return undefined;
  const segments = rest.slice(slash + 1).split('/');
  for (const s of segments) {
    if (s === '') return 'path cannot contain empty segments';
    if (s === '.' || s === '..') return 'path cannot contain dot segments';
    if (!SEGMENT.test(s))
      return 'path segment characters are limited to letters, numbers, dots, dashes, and underscores';
  }
  return undefined;
}

/** The trust domain named by `td` (`example.org` or `spiffe://example.org`), or a reason. */
export function trustDomainOf(td: string): { td: string } | { problem: string } {
  if (td.includes(':/')) {
    const p = spiffeIdProblem(td);
    if (p !== undefined) return { problem: p };
    const rest = td.slice('spiffe://'.length);
    const slash = rest.indexOf('/');
    return { td: slash < 0 ? rest : rest.slice(0, slash) };
  }
  if (td === '') return { problem: 'trust domain is missing' };
  if (!TRUST_DOMAIN.test(td)) {
    return {
      problem:
        'trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores',
    };
  }
  return { td };
}

function idTrustDomain(id: string): string {
  const rest = id.slice('spiffe://'.length);
  const slash = rest.indexOf('/');
  return slash < 0 ? rest : rest.slice(0, slash);
}

// ---- protobuf (proto3 wire format, read only) of the Workload API's X509SVIDResponse

class Reader {
  pos = 0;
  readonly buf: Buffer;
  constructor(buf: Buffer) {
    this.buf = buf;
  }
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.buf.length) throw new Error('truncated varint');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 63) throw new Error('varint too long');
    }
  }
  bytes(): Buffer {
    const len = this.varint();
    if (this.pos + len > this.buf.length) throw new Error('truncated field');
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
  /** Each field as (number, wire type); the caller reads or skips its value. */
  *fields(): Generator<readonly [number, number]> {
    while (!this.done) {
      const key = this.varint();
      yield [Math.floor(key / 8), key & 7];
    }
  }
}

/** workload.proto X509SVID (the fields we use). */
export interface X509Svid {
  readonly spiffeId: string;
  /** ASN.1 DER certificates, leaf first, concatenated. */
  readonly certificates: Buffer;
  /** PKCS#8 DER. */
  readonly key: Buffer;
  /** ASN.1 DER certificates of the SVID's trust domain, concatenated. */
  readonly bundle: Buffer;
}

export interface X509SvidResponse {
  readonly svids: readonly X509Svid[];
  /** Trust domain (or its SPIFFE ID) → ASN.1 DER certificates, concatenated. */
  readonly federatedBundles: ReadonlyMap<string, Buffer>;
}

export function decodeX509SvidResponse(buf: Buffer): X509SvidResponse {
  const r = new Reader(buf);
  const svids: X509Svid[] = [];
  const federatedBundles = new Map<string, Buffer>();
  for (const [n, wire] of r.fields()) {
    if (n === 1 && wire === 2) {
      const s = new Reader(r.bytes());
      let spiffeId = '';
      let certificates: Buffer = Buffer.alloc(0);
      let key: Buffer = Buffer.alloc(0);
      let bundle: Buffer = Buffer.alloc(0);
      for (const [m, w] of s.fields()) {
        if (m === 1 && w === 2) spiffeId = s.bytes().toString('utf8');
        else if (m === 2 && w === 2) certificates = s.bytes();
        else if (m === 3 && w === 2) key = s.bytes();
        else if (m === 4 && w === 2) bundle = s.bytes();
        else s.skip(w);
      }
      svids.push({ spiffeId, certificates, key, bundle });
    } else if (n === 3 && wire === 2) {
      const e = new Reader(r.bytes());
      let k = '';
      let v: Buffer = Buffer.alloc(0);
      for (const [m, w] of e.fields()) {
        if (m === 1 && w === 2) k = e.bytes().toString('utf8');
        else if (m === 2 && w === 2) v = e.bytes();
        else e.skip(w);
      }
      federatedBundles.set(k, v);
    } else r.skip(wire);
  }
  return { svids, federatedBundles };
}

/** Concatenated ASN.1 DER certificates, one by one (each a SEQUENCE). */
export function splitDer(buf: Buffer): X509Certificate[] {
  const out: X509Certificate[] = [];
  let pos = 0;
  while (pos < buf.length) {
    if (buf[pos] !== 0x30 || pos + 2 > buf.length) throw new Error('not an ASN.1 certificate');
    let len = buf[pos + 1]!;
    let header = 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0 || n > 4 || pos + 2 + n > buf.length) throw new Error('bad ASN.1 length');
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + buf[pos + 2 + i]!;
      header = 2 + n;
    }
    const end = pos + header + len;
    if (end > buf.length) throw new Error('truncated certificate');
    out.push(new X509Certificate(buf.subarray(pos, end)));
    pos = end;
  }
  return out;
}

// ---- the identity in use

/** One update's identity: what connections are made with, and what servers are checked against. */
export interface SpiffeIdentity {
  readonly id: string;
  readonly secureContext: SecureContext;
  /** Trust domain → SHA-256 fingerprints (Node's `AA:BB:…`) of its bundle's authorities. */
  readonly bundles: ReadonlyMap<string, ReadonlySet<string>>;
}

/** An X509SVIDResponse as an identity; throws with the reason when it cannot be one. */
export function identityOf(res: X509SvidResponse): SpiffeIdentity {
  const svid = res.svids[0];
  if (svid === undefined) throw new Error('the response has no X.509 SVID');
  const p = spiffeIdProblem(svid.spiffeId);
  if (p !== undefined) throw new Error(`invalid SPIFFE ID "${svid.spiffeId}": ${p}`);
  const chain = splitDer(svid.certificates);
  if (chain.length === 0) throw new Error('the SVID has no certificate');
  const key = createPrivateKey({ key: svid.key, format: 'der', type: 'pkcs8' });
  if (!chain[0]!.checkPrivateKey(key)) throw new Error('the SVID key does not match its certificate');
  const bundles = new Map<string, ReadonlySet<string>>();
  const ca: string[] = [];
  const add = (td: string, der: Buffer): void => {
    const certs = splitDer(der);
    const set = new Set<string>(bundles.get(td) ?? []);
    for (const c of certs) {
      set.add(c.fingerprint256);
      ca.push(c.toString());
    }
    bundles.set(td, set);
  };
  for (const [k, der] of res.federatedBundles) {
    const td = trustDomainOf(k);
    if ('td' in td) add(td.td, der);
  }
  add(idTrustDomain(svid.spiffeId), svid.bundle);
  const secureContext = process.getBuiltinModule('node:tls').createSecureContext({
    cert: chain.map((c) => c.toString()).join(''),
    key: key.export({ format: 'pem', type: 'pkcs8' }) as string,
    ca,
    // go-spiffe's tlsconfig: TLS 1.2 at least.
    minVersion: 'TLSv1.2',
  });
  return { id: svid.spiffeId, secureContext, bundles };
}

// ---- the Workload API client

const FETCH_X509_SVID = '/SpiffeWorkloadAPI/FetchX509SVID';
const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 30_000;

/** go-spiffe's workloadapi address forms: `unix:///path` (or `unix:/path`), `tcp://ip:port`. */
export function parseWorkloadAddr(addr: string): { path: string } | { host: string; port: number } {
  if (addr.startsWith('unix:')) {
    const path = addr.startsWith('unix://') ? addr.slice('unix://'.length) : addr.slice('unix:'.length);
    if (path === '' || !path.startsWith('/'))
      throw new Error(`workload endpoint unix socket path is not absolute: ${addr}`);
    return { path };
  }
  if (addr.startsWith('tcp://')) {
    const u = new URL(addr);
    const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
    if (process.getBuiltinModule('node:net').isIP(host) === 0)
      throw new Error(`workload endpoint tcp socket URI host component must be an IP:port: ${addr}`);
    if (u.port === '') throw new Error(`workload endpoint tcp socket URI must include a port: ${addr}`);
    return { host, port: Number(u.port) };
  }
  throw new Error(`workload endpoint socket URI must have a "tcp" or "unix" scheme: ${addr}`);
}

export class SpiffeWorkloadSource {
  readonly #addr: { path: string } | { host: string; port: number };
  readonly #logger: Logger;
  #identity: SpiffeIdentity | null = null;
  #session: ClientHttp2Session | null = null;
  #stream: ClientHttp2Stream | null = null;
  #timer: NodeJS.Timeout | null = null;
  #retryMs = FIRST_RETRY_MS;
  #closed = false;
  readonly #ready: Promise<void>;
  #resolveReady: () => void = () => {};

  /** Throws when `addr` is not a Workload API address. */
  constructor(addr: string, logger: Logger) {
    this.#addr = parseWorkloadAddr(addr);
    this.#logger = logger;
    this.#ready = new Promise((resolve) => {
      this.#resolveReady = resolve;
    });
  }

  /** The identity in use; null until the first SVID arrived. */
  get identity(): SpiffeIdentity | null {
    return this.#identity;
  }

  /** Starts fetching; resolves at the first SVID (retrying for ever, as go-spiffe's NewX509Source). */
  start(): Promise<void> {
    this.#open();
    return this.#ready;
  }

  close(): void {
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#stream?.close();
    this.#session?.destroy();
  }

  #open(): void {
    if (this.#closed) return;
    const a = this.#addr;
    // Loaded here: a proxy without SPIFFE never loads node:http2 for it.
    const http2Connect = process.getBuiltinModule('node:http2').connect;
    const netConnect = process.getBuiltinModule('node:net').connect;
    const session =
      'path' in a
        ? http2Connect('http://localhost', { createConnection: () => netConnect(a.path) })
        : http2Connect(`http://${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`);
    this.#session = session;
    session.on('error', (e) => this.#failed(`Workload API connection: ${e.message}`));
    const stream = session.request({
      ':method': 'POST',
      ':path': FETCH_X509_SVID,
      'content-type': 'application/grpc',
      te: 'trailers',
      // The Workload API's required security header (SPIFFE Workload Endpoint §5.1).
      'workload.spiffe.io': 'true',
    });
    this.#stream = stream;
    // An empty X509SVIDRequest: no compression flag, length 0.
    stream.end(Buffer.alloc(5));
    let pending: Buffer = Buffer.alloc(0);
    let grpcStatus: string | undefined;
    let grpcMessage = '';
    const readStatus = (h: Record<string, unknown>): void => {
      if (typeof h['grpc-status'] === 'string') grpcStatus = h['grpc-status'];
      if (typeof h['grpc-message'] === 'string') grpcMessage = decodeURIComponent(h['grpc-message']);
    };
    stream.on('response', readStatus);
    stream.on('trailers', readStatus);
    stream.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (pending.length >= 5) {
        const len = pending.readUInt32BE(1);
        if (pending.length < 5 + len) break;
        if (pending[0] !== 0) {
          this.#failed('Workload API sent a compressed message');
          return;
        }
        const msg = pending.subarray(5, 5 + len);
        pending = pending.subarray(5 + len);
        this.#update(msg);
      }
    });
    stream.on('error', (e) => this.#failed(`Workload API stream: ${e.message}`));
    stream.on('close', () => {
      if (this.#stream !== stream) return;
      this.#failed(
        grpcStatus !== undefined && grpcStatus !== '0'
          ? `Workload API answered gRPC status ${grpcStatus}${grpcMessage === '' ? '' : `: ${grpcMessage}`}`
          : 'Workload API stream ended',
      );
    });
  }

  #update(msg: Buffer): void {
    let next: SpiffeIdentity;
    try {
      next = identityOf(decodeX509SvidResponse(msg));
    } catch (e) {
      this.#logger.error('SPIFFE: unusable X.509 SVID update, the previous one is kept', {
        error: (e as Error).message,
      });
      return;
    }
    const first = this.#identity === null;
    this.#identity = next;
    this.#retryMs = FIRST_RETRY_MS;
    if (first) this.#resolveReady();
    else this.#logger.debug('SPIFFE: X.509 SVID updated', { spiffeId: next.id });
  }

  #failed(reason: string): void {
    if (this.#closed || this.#timer !== null) return;
    const stream = this.#stream;
    const session = this.#session;
    this.#stream = null;
    this.#session = null;
    stream?.close();
    session?.destroy();
    this.#logger.warn('SPIFFE: Workload API unavailable, retrying', { reason, retryInMs: this.#retryMs });
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#open();
    }, this.#retryMs);
    // Once serving, a retry alone must not keep a process alive that has nothing else to do;
    // before the first SVID, the wait is all there is (Traefik waits for it).
    if (this.#identity !== null) this.#timer.unref();
    this.#retryMs = Math.min(this.#retryMs * 2, MAX_RETRY_MS);
  }
}

// ---- the process's source, and the transports that use it

let processSource: { readonly identity: SpiffeIdentity | null } | null = null;

/**
 * Set once at start (main.ts) when static `spiffe.workloadAPIAddr` is set. `traffic explain`,
 * which opens no connection, sets a source without identity: the transports build, as they would.
 */
export function setSpiffeSource(s: { readonly identity: SpiffeIdentity | null } | null): void {
  processSource = s;
}

function refused(message: string, cert: PeerCertificate): Error {
  return Object.assign(new Error(message), { code: SPIFFE_REFUSED, cert });
}

/** The check of a server's certificate: x509svid.ParseAndVerify, then the authorizer. */
export function spiffeCheck(
  source: { readonly identity: SpiffeIdentity | null },
  auth: SpiffeAuthorization,
): IdentityCheck {
  const ids = auth.ids !== undefined && auth.ids.length > 0 ? new Set(auth.ids) : null;
  const member =
    ids === null && auth.trustDomain !== undefined && auth.trustDomain !== '' ? auth.trustDomain : null;
  return (_hostname, cert) => {
    const identity = source.identity;
    if (identity === null) return refused('no X.509 SVID yet', cert);
    const uris = uriSans(cert.subjectaltname);
    if (uris.length === 0)
      return refused('x509svid: could not get leaf SPIFFE ID: certificate contains no URI SAN', cert);
    if (uris.length > 1)
      return refused(
        'x509svid: could not get leaf SPIFFE ID: certificate contains more than one URI SAN',
        cert,
      );
    const id = uris[0]!;
    const p = spiffeIdProblem(id);
    if (p !== undefined) return refused(`x509svid: could not get leaf SPIFFE ID: ${p}`, cert);
    if (cert.ca) return refused('x509svid: leaf certificate must not have CA flag set to true', cert);
    const td = idTrustDomain(id);
    const bundle = identity.bundles.get(td);
    if (bundle === undefined)
      return refused(
        `x509svid: could not get X509 bundle: x509bundle: no X.509 bundle found for trust domain "${td}"`,
        cert,
      );
    // Node verified the chain against every bundle: it must end at one of this trust domain's.
    let anchored = false;
    for (let c: PeerCertificate | undefined = cert; c !== undefined; ) {
      if (bundle.has(c.fingerprint256)) {
        anchored = true;
        break;
      }
      const next: PeerCertificate | undefined = (c as { issuerCertificate?: PeerCertificate })
        .issuerCertificate;
      if (next === undefined || next === c || next.fingerprint256 === c.fingerprint256) break;
      c = next;
    }
    if (!anchored)
      return refused(
        'x509svid: could not verify leaf certificate: x509: certificate signed by unknown authority',
        cert,
      );
    if (ids !== null && !ids.has(id)) return refused(`unexpected ID "${id}"`, cert);
    if (member !== null && td !== member) return refused(`unexpected trust domain "${td}"`, cert);
    return undefined;
  };
}

/**
 * A transport's TLS with `spiffe` (Traefik's createTLSConfig / DialerManager.Build): the process's
 * SVID as client certificate, the servers checked by `spiffeCheck`. Errors as Traefik's: no
 * source (`spiffe.workloadAPIAddr` unset), or other TLS keys set with it.
 */
export function spiffeUpstreamTls(
  auth: SpiffeAuthorization,
  otherTlsKeys: boolean,
): { ok: true; tls: UpstreamTls } | { ok: false; path: readonly (string | number)[]; message: string } {
  if (otherTlsKeys)
    return {
      ok: false,
      path: ['spiffe'],
      message: 'TLS and SPIFFE configuration cannot be defined at the same time',
    };
  const source = processSource;
  if (source === null)
    return {
      ok: false,
      path: ['spiffe'],
      message: 'SPIFFE is enabled for this transport, but not configured',
    };
  // Traefik's buildSpiffeAuthorizer: the IDs and the trust domain are parsed (go-spiffe's rules).
  for (const [i, v] of (auth.ids ?? []).entries()) {
    const p = spiffeIdProblem(v);
    if (p !== undefined)
      return {
        ok: false,
        path: ['spiffe', 'ids', i],
        message: `unable to build SPIFFE authorizer: invalid SPIFFE ID: ${p}`,
      };
  }
  let trustDomain: string | undefined;
  if ((auth.ids ?? []).length === 0 && auth.trustDomain !== undefined && auth.trustDomain !== '') {
    const td = trustDomainOf(auth.trustDomain);
    if ('problem' in td)
      return {
        ok: false,
        path: ['spiffe', 'trustDomain'],
        message: `unable to build SPIFFE authorizer: invalid SPIFFE trust domain: ${td.problem}`,
      };
    trustDomain = td.td;
  }
  const id = createHash('sha256')
    .update(JSON.stringify(['spiffe', auth.ids ?? [], trustDomain ?? '']))
    .digest('base64url');
  const checkServerIdentity = spiffeCheck(source, { ids: auth.ids, trustDomain });
  return {
    ok: true,
    tls: {
      id,
      serverName: undefined,
      insecureSkipVerify: false,
      checkServerIdentity,
      noResumption: true,
      // Read at each connection: the SVID and bundles rotate.
      get secureContext(): SecureContext {
        const identity = source.identity;
        if (identity === null) throw new Error('no X.509 SVID yet');
        return identity.secureContext;
      },
    },
  };
}
