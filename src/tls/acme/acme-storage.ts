/**
 * The ACME storage file, in Traefik's acme.json layout so that a file from Traefik can be reused:
 *
 *   { "<resolver>": { "Account": { "Email", "Registration": { "body", "uri" }, "PrivateKey": base64 DER,
 *                                  "KeyType" },
 *                     "Certificates": [ { "domain": { "main", "sans" }, "certificate": base64 PEM,
 *                                         "key": base64 PEM, "Store": "default" } ] } }
 *
 * Several resolvers may share one file, so a save rewrites only its own section. Writes are
 * atomic (temporary file in the same folder, fsync, rename) so that a crash never leaves half a
 * file, and the file is mode 0600: it holds private keys.
 */
import { createPrivateKey, randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Logger } from '../../core/logger.ts';

export interface StoredAccount {
  readonly email: string;
  /** PKCS#8 PEM. */
  readonly keyPem: string;
  readonly registration?: { readonly uri: string; readonly body: Readonly<Record<string, unknown>> };
  /**
   * Traefik's `Account.KeyType` as read from the file (the resolver's certificate key type when
   * Traefik made the account), written back as it was.
   */
  readonly keyType?: string;
}

export interface StoredCertificate {
  /** First is Traefik's `domain.main`, the rest its `sans`. */
  readonly domains: readonly string[];
  readonly keyPem: string;
  readonly certPem: string;
  readonly store: string;
}

export interface ResolverData {
  readonly account?: StoredAccount;
  readonly certificates: readonly StoredCertificate[];
}

export class AcmeStorageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AcmeStorageError';
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export class AcmeStorage {
  readonly file: string;
  readonly #logger: Logger;

  constructor(file: string, logger: Logger) {
    this.file = file;
    this.#logger = logger;
  }

  /**
   * Traefik's check before a resolver starts (pkg/provider/acme/local_store_unix.go CheckFile,
   * then LocalStore.get's json.Unmarshal, both reached from Provider.Init's GetAccount): a file
   * that does not exist is created empty with mode 0600; one whose mode lets group or others in
   * is refused ("permissions 644 for FILE are too open, please use 600"), and so is one that
   * cannot be read or is not a JSON object. Throws AcmeStorageError with the reason; the caller
   * skips the resolver as cmd/traefik/traefik.go does ("The ACME resolve is skipped from the
   * resolvers list"), and the file is left as it is. Unlike Go's os.Create, a missing folder is
   * made (mode 0700), as every save here does.
   */
  check(): void {
    let mode: number;
    try {
      mode = statSync(this.file).mode & 0o777;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new AcmeStorageError(`cannot read ${this.file}: ${(e as Error).message}`, { cause: e });
      try {
        mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
        closeSync(openSync(this.file, 'wx', 0o600));
      } catch (err) {
        // Made meanwhile by another resolver sharing the file: fine; else Traefik's error too.
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST')
          throw new AcmeStorageError(`cannot create ${this.file}: ${(err as Error).message}`, { cause: err });
      }
      return;
    }
    if ((mode & 0o077) !== 0)
      throw new AcmeStorageError(
        `permissions ${mode.toString(8)} for ${this.file} are too open, please use 600`,
      );
    this.#readAll();
  }

  /** The resolver's section; empty when the file does not exist. Throws AcmeStorageError when unreadable. */
  load(resolver: string): ResolverData {
    const all = this.#readAll();
    if (all === undefined) return { certificates: [] };
    return decodeResolver(all[resolver]);
  }

  /** Replaces the resolver's section, keeping the others. */
  save(resolver: string, data: ResolverData): void {
    let all: Obj;
    try {
      all = this.#readAll() ?? {};
    } catch (e) {
      const aside = `${this.file}.corrupt-${Date.now()}`;
      renameSync(this.file, aside);
      this.#logger.error('acme storage file was unreadable; moved aside', {
        file: this.file,
        aside,
        error: e,
      });
      all = {};
    }
    all[resolver] = encodeResolver(data);
    this.#writeAtomically(`${JSON.stringify(all, null, 2)}\n`);
  }

  #readAll(): Obj | undefined {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new AcmeStorageError(`cannot read ${this.file}: ${(e as Error).message}`, { cause: e });
    }
    if (text.trim() === '') return {};
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new AcmeStorageError(`${this.file} is not JSON: ${(e as Error).message}`, { cause: e });
    }
    if (!isObj(parsed)) throw new AcmeStorageError(`${this.file} does not hold a JSON object`);
    return parsed;
  }

  #writeAtomically(text: string): void {
    const dir = dirname(this.file);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = join(dir, `.${basename(this.file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeSync(fd, text);
      fsyncSync(fd); // the rename must not be durable before the data is
    } catch (e) {
      closeSync(fd);
      unlinkSync(tmp);
      throw e;
    }
    closeSync(fd);
    renameSync(tmp, this.file);
    try {
      const dfd = openSync(dir, 'r');
      fsyncSync(dfd);
      closeSync(dfd);
    } catch {
      // Some file systems cannot fsync a directory; the rename is still atomic.
    }
  }
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: unknown): string =>
  typeof s === 'string' ? Buffer.from(s, 'base64').toString('utf8') : '';

/**
 * The account key as Traefik stores it: an RSA key in PKCS#1 DER (pkg/provider/acme/account.go
 * x509.MarshalPKCS1PrivateKey, read back with ParsePKCS1PrivateKey alone, which refuses PKCS#8), so
 * a file Traefik wrote stays one Traefik reads. An EC key (ours from earlier versions) has no
 * form Traefik reads: PKCS#8.
 */
function accountKeyDer(keyPem: string): Buffer {
  const key = createPrivateKey(keyPem);
  return key.export({ format: 'der', type: key.asymmetricKeyType === 'rsa' ? 'pkcs1' : 'pkcs8' });
}

function encodeResolver(data: ResolverData): Obj {
  const a = data.account;
  return {
    Account:
      a === undefined
        ? null
        : {
            Email: a.email,
            Registration:
              a.registration === undefined ? null : { body: a.registration.body, uri: a.registration.uri },
            PrivateKey: accountKeyDer(a.keyPem).toString('base64'),
            KeyType:
              a.keyType ?? (createPrivateKey(a.keyPem).asymmetricKeyType === 'ec' ? 'EC256' : 'RSA4096'),
          },
    Certificates: data.certificates.map((c) => ({
      domain: { main: c.domains[0] ?? '', ...(c.domains.length > 1 ? { sans: c.domains.slice(1) } : {}) },
      certificate: b64(c.certPem),
      key: b64(c.keyPem),
      Store: c.store,
    })),
  };
}

function decodeResolver(section: unknown): ResolverData {
  if (!isObj(section)) return { certificates: [] };
  const certificates: StoredCertificate[] = [];
  if (Array.isArray(section.Certificates)) {
    for (const c of section.Certificates) {
      if (!isObj(c) || !isObj(c.domain) || typeof c.domain.main !== 'string') continue;
      const sans = Array.isArray(c.domain.sans) ? c.domain.sans.filter((s) => typeof s === 'string') : [];
      const certPem = unb64(c.certificate);
      const keyPem = unb64(c.key);
      if (!certPem.includes('BEGIN CERTIFICATE') || !keyPem.includes('PRIVATE KEY')) continue;
      const store = typeof c.Store === 'string' && c.Store !== '' ? c.Store : 'default';
      certificates.push({ domains: [c.domain.main, ...sans], keyPem, certPem, store });
    }
  }
  const account = decodeAccount(section.Account);
  return account === undefined ? { certificates } : { account, certificates };
}

function decodeAccount(a: unknown): StoredAccount | undefined {
  if (!isObj(a) || typeof a.PrivateKey !== 'string') return undefined;
  const der = Buffer.from(a.PrivateKey, 'base64');
  let keyPem: string | undefined;
  // Traefik writes RSA keys as PKCS#1 (so do we), EC keys are PKCS#8 here, SEC1 is the other EC form.
  for (const type of ['pkcs8', 'pkcs1', 'sec1'] as const) {
    try {
      keyPem = createPrivateKey({ key: der, format: 'der', type })
        .export({ format: 'pem', type: 'pkcs8' })
        .toString();
      break;
    } catch {
      // try the next encoding
    }
  }
  if (keyPem === undefined) return undefined;
  const reg = a.Registration;
  const registration =
    isObj(reg) && typeof reg.uri === 'string'
      ? { uri: reg.uri, body: isObj(reg.body) ? reg.body : {} }
      : undefined;
  const email = typeof a.Email === 'string' ? a.Email : '';
  const keyType = typeof a.KeyType === 'string' && a.KeyType !== '' ? { keyType: a.KeyType } : {};
  return registration === undefined
    ? { email, keyPem, ...keyType }
    : { email, keyPem, registration, ...keyType };
}
