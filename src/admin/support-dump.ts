/**
 * Traefik's `GET /api/support-dump` (pkg/api/handler_support_dump.go): a gzipped tar holding
 * `version.json` ({version, codename, startDate}), `static-config.json` (the static
 * configuration, anonymized) and `runtime-config.json` (the runtime objects by name, as
 * `/api/rawdata`'s Traefik keys). The archive is built in memory: it is small, and asked for
 * rarely.
 */
import { gzipSync } from 'node:zlib';
import { bigints } from './http-io.ts';

/** What a string value becomes in the static configuration, as Traefik's redactor writes it. */
export const ANONYMIZED = 'xxxx';

/**
 * Keys whose string values are secrets or personal (tokens, passwords, keys, credentials,
 * headers, users, e-mail addresses): replaced whole. Traefik's redactor.Anonymize masks every
 * field not tagged `export:"true"`; ours keeps the structure and the harmless values (addresses,
 * durations, flags, names) readable and masks by key, plus any credentials inside a URL.
 */
const SECRET_KEY =
  /pass|secret|token|key|auth|cred|hmac|users|header|cookie|email|dsn|signature|license|sasl|bearer/i;

/** Keys the pattern catches that hold nothing secret (trusted addresses). */
const NOT_SECRET = new Set(['forwardedHeaders']);

const secretKey = (k: string): boolean => SECRET_KEY.test(k) && !NOT_SECRET.has(k);

/** The static configuration with its secrets masked (Traefik's `xxxx`); never changes `value`. */
export function anonymize(value: unknown, key = ''): unknown {
  if (typeof value === 'string') {
    if (value === '') return value;
    if (secretKey(key)) return ANONYMIZED;
    // user:password@ in a URL (an endpoint, a proxy).
    return value.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, `$1${ANONYMIZED}@`);
  }
  if (Array.isArray(value)) return value.map((v) => anonymize(v, key));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    // A secret-named section (api.auth, a provider's basicAuth): every string under it.
    out[k] = secretKey(k) ? maskAll(v) : anonymize(v, k);
  }
  return out;
}

function maskAll(value: unknown): unknown {
  if (typeof value === 'string') return value === '' ? value : ANONYMIZED;
  if (Array.isArray(value)) return value.map(maskAll);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = maskAll(v);
  return out;
}

/** One ustar header field: `text` then NULs, cut to `size` bytes. */
function field(block: Buffer, offset: number, size: number, text: string): void {
  block.write(text.slice(0, size), offset, size, 'ascii');
}

/** A number as Go's tar writer puts it: octal, zero-padded, NUL-terminated. */
function octal(block: Buffer, offset: number, size: number, n: number): void {
  field(block, offset, size, `${n.toString(8).padStart(size - 1, '0')}\0`);
}

/** One regular file of a ustar archive (mode 0600, as Traefik's addFile): header and padded body. */
function tarFile(name: string, body: Buffer, mtime: number): Buffer {
  const h = Buffer.alloc(512);
  field(h, 0, 100, name);
  octal(h, 100, 8, 0o600);
  octal(h, 108, 8, 0);
  octal(h, 116, 8, 0);
  octal(h, 124, 12, body.length);
  octal(h, 136, 12, mtime);
  h.fill(0x20, 148, 156); // the checksum counts its own field as spaces
  field(h, 156, 1, '0');
  field(h, 257, 6, 'ustar\0');
  field(h, 263, 2, '00');
  let sum = 0;
  for (const b of h) sum += b;
  field(h, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  const pad = Buffer.alloc((512 - (body.length % 512)) % 512);
  return Buffer.concat([h, body, pad]);
}

/** The archive: the files in order, then the two empty blocks that end a tar. */
export function supportDump(files: readonly { name: string; json: unknown }[], now = Date.now()): Buffer {
  const mtime = Math.floor(now / 1000);
  const parts = files.map((f) => tarFile(f.name, Buffer.from(JSON.stringify(f.json, bigints)), mtime));
  return gzipSync(Buffer.concat([...parts, Buffer.alloc(1024)]));
}
