import { createPrivateKey, randomBytes } from 'node:crypto';
import { isIPv6 } from 'node:net';
import type { SecureContext } from 'node:tls';
import { DEFAULT_TLS_NAME } from '../config/dynamic/sections.ts';
import type { TlsSectionConfig } from '../config/dynamic/tls.ts';
import { type ConfigIssue, type ConfigPath, issue } from '../config/issues.ts';
import { type CompiledTlsOptions, type ReadFile, resolvePem, secureContextFor } from './tls-options.ts';
import {
  certificateInfo,
  type KeyAndCert,
  keyMatchesCertificate,
  missingIssuer,
  selfSignedCertificate,
  type TrustedRoots,
} from './x509/index.ts';

/** A certificate to serve, with where it came from for messages (a file name, `inline`, `acme`). */
export interface CertInput {
  readonly certPem: string;
  readonly keyPem: string;
  readonly source: string;
  /** Where it is configured, for issues (e.g. `['tls', 'certificates', 0]`). */
  readonly path?: ConfigPath;
}

/** A certificate held by the store. */
export interface StoredCertificate {
  readonly certPem: string;
  readonly keyPem: string;
  readonly source: string;
  /** Lower-cased subject CN and SANs (IPv6 in RFC 5952 form). */
  readonly names: readonly string[];
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly fingerprint256: string;
  /** Served when nothing else matches (configured or generated). */
  readonly isDefault: boolean;
  /** The process's self-signed `TRAEFIK DEFAULT CERT`. */
  readonly generated: boolean;
}

export interface CertLookup {
  readonly secureContext: SecureContext;
  readonly certificateNames: readonly string[];
  readonly certificate: StoredCertificate;
}

/**
 * The self-signed certificate served when no default is configured, as Traefik's
 * (`pkg/tls/generate` DefaultCertificate): subject `TRAEFIK DEFAULT CERT`, one DNS name
 * `<32 hex>.<32 hex>.traefik.default` (monitoring made for Traefik recognizes it by these), created on first use, then the same for the life of the process (main.ts holds one),
 * so that reloads do not change what clients without SNI see. Renewed a day before it expires.
 */
export class GeneratedDefaultCertificate {
  #value: { readonly keyAndCert: KeyAndCert; readonly notAfter: number } | undefined;
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  get(): KeyAndCert {
    if (this.#value === undefined || this.#value.notAfter - this.#now() < 86_400_000) {
      // A random name under Traefik's reserved-looking suffix, so it can never match an SNI.
      const z = randomBytes(32).toString('hex');
      const name = `${z.slice(0, 32)}.${z.slice(32)}.traefik.default`;
      const keyAndCert = selfSignedCertificate([name], { commonName: 'TRAEFIK DEFAULT CERT', days: 365 });
      this.#value = { keyAndCert, notAfter: certificateInfo(keyAndCert.certPem).notAfter.getTime() };
    }
    return this.#value.keyAndCert;
  }
}

class Entry implements StoredCertificate {
  readonly certPem: string;
  readonly keyPem: string;
  readonly source: string;
  readonly names: readonly string[];
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly fingerprint256: string;
  readonly isDefault: boolean;
  readonly generated: boolean;
  /** Made at build: it is the real validation (chain, key format). */
  readonly #plain: CertLookup;
  /** One context per options set, made on first handshake; dropped with the options object. */
  readonly #byOptions = new WeakMap<CompiledTlsOptions, CertLookup>();

  constructor(
    input: CertInput,
    info: ReturnType<typeof certificateInfo>,
    isDefault: boolean,
    generated: boolean,
  ) {
    this.certPem = input.certPem;
    this.keyPem = input.keyPem;
    this.source = input.source;
    this.names = info.names.map(canonicalName);
    this.notBefore = info.notBefore;
    this.notAfter = info.notAfter;
    this.fingerprint256 = info.fingerprint256;
    this.isDefault = isDefault;
    this.generated = generated;
    this.#plain = this.#lookup(secureContextFor(undefined, input));
  }

  #lookup(secureContext: SecureContext): CertLookup {
    return { secureContext, certificateNames: this.names, certificate: this };
  }

  /** Cached, so that a handshake allocates nothing here once its pair has been seen. */
  result(options: CompiledTlsOptions | undefined): CertLookup {
    if (options === undefined) return this.#plain;
    let found = this.#byOptions.get(options);
    if (found === undefined) {
      found = this.#lookup(secureContextFor(options, this));
      this.#byOptions.set(options, found);
    }
    return found;
  }
}

/** RFC 5952 text for IPv6 (as certificateInfo prints SANs), lower case for the rest. */
function canonicalName(name: string): string {
  if (isIPv6(name)) return new URL(`http://[${name}]/`).hostname.slice(1, -1);
  return name.toLowerCase();
}

/** SNI as sent, or a socket's local address → the form names are indexed under. */
function canonicalServerName(name: string): string {
  let n = name;
  if (n.endsWith('.')) n = n.slice(0, -1);
  if (n.startsWith('::ffff:') && n.includes('.')) n = n.slice(7); // IPv4-mapped: the IPv4 address
  if (n.includes(':')) return isIPv6(n) ? canonicalName(n) : n.toLowerCase();
  for (let i = 0; i < n.length; i++) {
    const c = n.charCodeAt(i);
    if (c >= 65 && c <= 90) return n.toLowerCase();
  }
  return n;
}

/** Valid now, then the one that lasts longest: a renewed certificate wins over the one it replaces. */
function better(a: Entry, b: Entry, now: number): boolean {
  const av = a.notBefore.getTime() <= now && now <= a.notAfter.getTime();
  const bv = b.notBefore.getTime() <= now && now <= b.notAfter.getTime();
  if (av !== bv) return av;
  return a.notAfter.getTime() > b.notAfter.getTime();
}

export interface CertStoreOptions {
  /** The process's generated default (see GeneratedDefaultCertificate); a fresh one otherwise. */
  readonly generated?: GeneratedDefaultCertificate;
  /** For expiry warnings and choosing between certificates of one name; default Date.now(). */
  readonly now?: number;
  /**
   * Roots a configured certificate's chain must reach (else a warning: an intermediate is
   * missing from its file). No check without it.
   */
  readonly roots?: TrustedRoots;
  /**
   * `tls.stores.default.defaultGeneratedCert`'s domains (lower case, no trailing dot): when no
   * default is configured, the certificate among `certs` whose names include them all is the
   * default, as Traefik's tlsmanager getDefaultCertificate asks the store (CertificateStore
   * GetCertificate: every domain among the certificate's SANs, as written); else the generated one.
   */
  readonly defaultFor?: readonly string[];
}

/**
 * Certificates by name, for SNI. Exact names first, then a wildcard `*.example.com`, which covers
 * exactly one label (RFC 6125 6.4.3: not `example.com`, not `a.b.example.com`); case-insensitive.
 * IP SANs match an IP literal sent as SNI, or the local address of a connection without SNI.
 * Anything else gets the default certificate, unless the options set is sniStrict.
 */
export class CertStore {
  readonly #exact = new Map<string, Entry>();
  /** Keyed by what follows `*.`. */
  readonly #wildcard = new Map<string, Entry>();
  readonly #default: Entry;
  readonly #certificates: readonly Entry[];

  private constructor(certificates: Entry[], fallback: Entry, now: number) {
    this.#certificates = certificates;
    this.#default = fallback;
    const index = (entry: Entry): void => {
      for (const name of entry.names) {
        const map = name.startsWith('*.') ? this.#wildcard : this.#exact;
        const key = name.startsWith('*.') ? name.slice(2) : name;
        const current = map.get(key);
        if (current === undefined || (current.isDefault === entry.isDefault && better(entry, current, now))) {
          map.set(key, entry);
        }
      }
    };
    for (const entry of certificates) index(entry);
    // A configured default answers for its own names too, but never in place of a certificate.
    if (!fallback.generated) index(fallback);
  }

  /**
   * Checks and indexes `certs`: a key that does not match its certificate (or that does not parse)
   * is an error naming the source, and the certificate is left out; an expired or not yet valid
   * certificate is a warning (it is still served, as Traefik does).
   */
  static build(
    certs: readonly CertInput[],
    defaultCert?: CertInput,
    opts: CertStoreOptions = {},
  ): { store: CertStore; issues: ConfigIssue[] } {
    const now = opts.now ?? Date.now();
    const issues: ConfigIssue[] = [];
    const entries: Entry[] = [];
    for (const input of certs) {
      const entry = check(input, false, now, issues, opts.roots);
      if (entry !== undefined) entries.push(entry);
    }
    let fallback = defaultCert === undefined ? undefined : check(defaultCert, true, now, issues, opts.roots);
    const wanted = opts.defaultFor;
    if (fallback === undefined && wanted !== undefined && wanted.length > 0) {
      let chosen: Entry | undefined;
      for (const e of entries) {
        if (wanted.every((d) => e.names.includes(d)) && (chosen === undefined || better(e, chosen, now)))
          chosen = e;
      }
      if (chosen !== undefined) fallback = new Entry(chosen, certificateInfo(chosen.certPem), true, false);
    }
    if (fallback === undefined) {
      const generated = (opts.generated ?? new GeneratedDefaultCertificate()).get();
      const input = { ...generated, source: 'generated' };
      fallback = new Entry(input, certificateInfo(generated.certPem), true, true);
    }
    return { store: new CertStore(entries, fallback, now), issues };
  }

  /** The certificate served when nothing matches. */
  get defaultCertificate(): StoredCertificate {
    return this.#default;
  }

  /** Every certificate but the default, in configuration order. */
  get certificates(): readonly StoredCertificate[] {
    return this.#certificates;
  }

  /**
   * The certificate for a handshake, in a context that carries `options` (each certificate ×
   * options set has one context, made on first use). Without SNI, `localAddress` may match an IP
   * SAN. Undefined when nothing matches and `options.sniStrict` forbids the default (a configured
   * default too, whatever its names).
   */
  lookup(
    serverName: string | undefined,
    options?: CompiledTlsOptions,
    localAddress?: string,
  ): CertLookup | undefined {
    const name = serverName === undefined || serverName === '' ? localAddress : serverName;
    const found = name === undefined || name === '' ? undefined : this.#find(canonicalServerName(name));
    if (options?.sniStrict === true) {
      // Traefik's tlsmanager Get asks CertificateStore.GetBestCertificate, which searches the
      // store's certificates only: a configured default is refused even for its own names
      // (traefik/traefik#7224, #9495), unless it is among `tls.certificates` too.
      return found === undefined || found.isDefault ? undefined : found.result(options);
    }
    return (found ?? this.#default).result(options);
  }

  /**
   * Whether a certificate here (a configured default too, not the generated one) is for `name`:
   * exact, or a `*.` wildcard over its first label (`*.a.test` is covered by `*.a.test`), as
   * Traefik's types.MatchDomain reads the store's GetAllDomains in the ACME provider.
   */
  covers(name: string): boolean {
    return this.#find(canonicalServerName(name)) !== undefined;
  }

  #find(name: string): Entry | undefined {
    const exact = this.#exact.get(name);
    if (exact !== undefined) return exact;
    const dot = name.indexOf('.');
    return dot > 0 ? this.#wildcard.get(name.slice(dot + 1)) : undefined;
  }
}

function check(
  input: CertInput,
  isDefault: boolean,
  now: number,
  issues: ConfigIssue[],
  roots: TrustedRoots | undefined,
): Entry | undefined {
  const path = input.path ?? [];
  let info: ReturnType<typeof certificateInfo>;
  try {
    info = certificateInfo(input.certPem);
  } catch (err) {
    issues.push(issue('error', `${input.source}: invalid certificate: ${(err as Error).message}`, path));
    return undefined;
  }
  if (!keyMatchesCertificate(input.keyPem, input.certPem)) {
    let parses = true;
    try {
      createPrivateKey(input.keyPem);
    } catch {
      parses = false;
    }
    const message = parses
      ? `${input.source}: the private key does not match the certificate`
      : `${input.source}: the private key cannot be read (PEM PKCS#8, PKCS#1 or SEC1, unencrypted)`;
    issues.push(issue('error', message, path));
    return undefined;
  }
  let entry: Entry;
  try {
    entry = new Entry(input, info, isDefault, false);
  } catch (err) {
    issues.push(issue('error', `${input.source}: ${(err as Error).message}`, path));
    return undefined;
  }
  const names = info.names.join(', ');
  if (info.notAfter.getTime() < now) {
    issues.push(
      issue(
        'warning',
        `${input.source}: certificate for ${names} expired on ${info.notAfter.toISOString()}`,
        path,
      ),
    );
  } else if (info.notBefore.getTime() > now) {
    issues.push(
      issue(
        'warning',
        `${input.source}: certificate for ${names} is not valid before ${info.notBefore.toISOString()}`,
        path,
      ),
    );
  }
  if (info.names.length === 0) {
    issues.push(
      issue('warning', `${input.source}: certificate has no names: it is only served as the default`, path),
    );
  }
  // Configured files only (they have a path): an ACME certificate's chain is the CA's business.
  const missing =
    roots === undefined || input.path === undefined ? undefined : missingIssuer(input.certPem, roots);
  if (missing !== undefined) {
    issues.push(
      issue(
        'warning',
        `${input.source}: the chain does not reach a known root: add the intermediate certificate(s) after the certificate in the file (no certificate for issuer "${missing}" in the file or among node's trusted roots)`,
        path,
      ),
    );
  }
  return entry;
}

/**
 * The certificates of a `tls` section, read through `read` (certFile/keyFile may be inline PEM):
 * those in the default store (no `stores`, or `default` among them) and the default store's
 * defaultCertificate. Unreadable files are errors naming the key.
 */
export function certificatesFromConfig(
  tls: Pick<TlsSectionConfig, 'certificates' | 'stores'>,
  read: ReadFile,
  root: ConfigPath = ['tls'],
): { certs: CertInput[]; defaultCert?: CertInput; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const load = (c: { certFile: string; keyFile: string }, path: ConfigPath): CertInput | undefined => {
    const cert = resolvePem(c.certFile, read, 'CertFile');
    const key = resolvePem(c.keyFile, read, 'KeyFile');
    if ('error' in cert) issues.push(issue('error', cert.error, [...path, 'certFile']));
    if ('error' in key) issues.push(issue('error', key.error, [...path, 'keyFile']));
    if ('error' in cert || 'error' in key) return undefined;
    const source = c.certFile.includes('-----BEGIN ') ? 'inline certificate' : c.certFile;
    return { certPem: cert.pem, keyPem: key.pem, source, path };
  };
  const certs: CertInput[] = [];
  tls.certificates.forEach((c, i) => {
    if (c.stores !== undefined && c.stores.length > 0 && !c.stores.includes(DEFAULT_TLS_NAME)) return;
    const input = load(c, [...root, 'certificates', i]);
    if (input !== undefined) certs.push(input);
  });
  const configured = tls.stores[DEFAULT_TLS_NAME]?.defaultCertificate;
  const defaultCert =
    configured === undefined
      ? undefined
      : load(configured, [...root, 'stores', DEFAULT_TLS_NAME, 'defaultCertificate']);
  return defaultCert === undefined ? { certs, issues } : { certs, defaultCert, issues };
}
