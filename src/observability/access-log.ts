import { close, open, write } from 'node:fs';
import type { AccessLogConfig } from '../config/static/schema.ts';
import type { HeaderList } from '../core/headers.ts';
import type { Logger } from '../core/logger.ts';
import { withQuery } from '../core/request.ts';

/** One finished request, as the access log records it. */
export interface AccessRecord {
  readonly startTime: number; // epoch ms
  readonly clientIp: string;
  readonly method: string;
  readonly host: string;
  readonly path: string;
  readonly query: string;
  readonly protocol: string;
  readonly status: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly durationMs: number;
  readonly entryPoint: string;
  readonly router: string;
  readonly service: string;
  readonly server: string;
  readonly userAgent: string;
  readonly referer: string;
  /** Attempts beyond the first (0 or absent = not retried). */
  readonly retryAttempts?: number;
  /** The request's headers as forwarded; only read when header fields are kept or redacted. */
  readonly requestHeaders?: HeaderList;
}

export type FieldMode = 'keep' | 'drop' | 'redact';

/** Traefik's `accessLog.filters`: a record is kept when it matches ANY configured filter. */
export interface AccessLogFilters {
  /** "200", "300-302". */
  readonly statusCodes: readonly string[];
  readonly retryAttempts: boolean;
  /** Milliseconds; 0 = not a filter. */
  readonly minDuration: number;
}

/** Traefik's `accessLog.fields`. Names match case-insensitively. */
export interface AccessLogFields {
  readonly defaultMode: FieldMode;
  /** Our JSON keys (`clientIp`) or Traefik's field names (`ClientHost`). */
  readonly names: Readonly<Record<string, FieldMode>>;
  readonly headers: {
    readonly defaultMode: FieldMode;
    readonly names: Readonly<Record<string, FieldMode>>;
  };
}

export interface AccessLogOptions {
  readonly format: 'json' | 'common';
  /** '' = stdout. */
  readonly filePath: string;
  /** Flush when this many bytes are pending. */
  readonly bufferBytes?: number;
  /** Flush when this many lines are pending (Traefik's bufferingSize); 0 = by bytes and time only. */
  readonly bufferingSize?: number;
  readonly filters?: AccessLogFilters;
  readonly fields?: AccessLogFields;
  /** Open, write and reopen failures (default: a process warning). */
  readonly onError?: (message: string, error: Error) => void;
}

const REDACTED = 'REDACTED';
const KEEP = 0;
const DROP = 1;
const REDACT = 2;
const MODE = { keep: KEEP, drop: DROP, redact: REDACT } as const;
const FLUSH_DELAY_MS = 50;
/** A non-blocking stdout pipe that is full: try again shortly rather than lose the lines. */
const EAGAIN_RETRY_MS = 5;

/**
 * Writes access log lines without blocking the event loop: lines accumulate in memory and are
 * written with asynchronous fs.write (thread pool) at most one operation at a time. stdout as a
 * pipe is synchronous on Linux, which is why we do not use process.stdout here. Reopening (for
 * logrotate) waits for the write in flight and holds new lines until the new file is open, so no
 * line is lost or reordered.
 */
export class AccessLog {
  readonly #format: 'json' | 'common';
  readonly #filePath: string;
  readonly #bufferBytes: number;
  readonly #bufferLines: number;
  readonly #filter: RecordFilter | null;
  readonly #fields: FieldPolicy | null;
  readonly #onError: (message: string, error: Error) => void;
  #pending: string[] = [];
  #pendingBytes = 0;
  #fd: number | null;
  /** An open or a write is in flight: the descriptor must neither change nor get another write. */
  #busy = false;
  #reopenWanted = false;
  #out: Buffer | null = null;
  #outOffset = 0;
  #failing = false;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #closing: Promise<void> | null = null;
  #idleWaiters: (() => void)[] = [];
  /** Requests logged since start: Traefik's CLF carries this count. */
  #count = 0;

  constructor(opts: AccessLogOptions) {
    this.#format = opts.format;
    this.#filePath = opts.filePath;
    this.#bufferBytes = opts.bufferBytes ?? 32 * 1024;
    this.#bufferLines = opts.bufferingSize ?? 0;
    this.#filter = opts.filters === undefined ? null : RecordFilter.from(opts.filters);
    this.#fields = opts.fields === undefined ? null : new FieldPolicy(opts.fields);
    this.#onError = opts.onError ?? ((message, error) => process.emitWarning(`${message}: ${error.message}`));
    this.#fd = opts.filePath === '' ? 1 : null;
    if (opts.filePath !== '') this.#openFile();
  }

  log(r: AccessRecord): void {
    if (this.#closed) return;
    this.#count++;
    if (this.#filter !== null && !this.#filter.keeps(r)) return;
    const f = this.#fields;
    const line =
      this.#format === 'json'
        ? f === null
          ? toJson(r)
          : f.json(r)
        : f === null
          ? toCommon(r, this.#count)
          : f.common(r, this.#count);
    this.#pending.push(line);
    this.#pendingBytes += line.length;
    if (
      this.#pendingBytes >= this.#bufferBytes ||
      (this.#bufferLines > 0 && this.#pending.length >= this.#bufferLines)
    ) {
      this.#flush();
    } else if (this.#timer === undefined) {
      this.#timer = setTimeout(this.#onTimer, FLUSH_DELAY_MS);
      this.#timer.unref();
    }
  }

  /**
   * Closes the file and opens its path again (after logrotate renamed it). Lines logged before
   * and during the reopen go to the new file once it is open; if it cannot be opened, writing
   * goes on to the old one. stdout is never reopened.
   */
  reopen(): void {
    if (this.#filePath === '' || this.#closed) return;
    this.#reopenWanted = true;
    this.#flush();
  }

  /** Writes what is pending now; resolves when everything logged so far is written. */
  flush(): Promise<void> {
    return new Promise((resolve) => {
      this.#idleWaiters.push(resolve);
      this.#clearTimer();
      this.#flush();
    });
  }

  /** Flushes what is pending and closes the file; resolves when done. Later lines are ignored. */
  close(): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    this.#closed = true;
    this.#closing = this.flush().then(
      () =>
        new Promise<void>((resolve) => {
          const fd = this.#fd;
          this.#fd = null;
          if (fd === null || this.#filePath === '') resolve();
          else close(fd, () => resolve());
        }),
    );
    return this.#closing;
  }

  readonly #onTimer = (): void => {
    this.#timer = undefined;
    this.#flush();
  };

  #clearTimer(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #flush(): void {
    if (this.#busy) return;
    if (this.#reopenWanted) {
      this.#openFile();
      return;
    }
    if (this.#pending.length > 0 && this.#fd === null) {
      // The file could not be opened: holding the lines would only grow memory; reopen() retries.
      this.#pending = [];
      this.#pendingBytes = 0;
    }
    if (this.#pending.length === 0) {
      this.#settle();
      return;
    }
    this.#out = Buffer.from(this.#pending.join(''), 'utf8');
    this.#outOffset = 0;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#writeOut();
  }

  #writeOut(): void {
    const out = this.#out!;
    this.#busy = true;
    write(this.#fd!, out, this.#outOffset, out.length - this.#outOffset, null, this.#wrote);
  }

  readonly #wrote = (err: NodeJS.ErrnoException | null, written: number): void => {
    if (err !== null) {
      if (err.code === 'EAGAIN') {
        setTimeout(() => this.#writeOut(), EAGAIN_RETRY_MS).unref();
        return;
      }
      // Disk full, I/O error: drop this batch (holding it would grow memory), say so once.
      if (!this.#failing) this.#onError('access log: write failed', err);
      this.#failing = true;
    } else {
      this.#failing = false;
      this.#outOffset += written;
      // A short write (pipe): the rest goes before anything else, reopen included.
      if (this.#outOffset < this.#out!.length) {
        this.#writeOut();
        return;
      }
    }
    this.#busy = false;
    this.#out = null;
    this.#flush();
  };

  #openFile(): void {
    this.#reopenWanted = false;
    this.#busy = true;
    open(this.#filePath, 'a', 0o640, this.#opened);
  }

  readonly #opened = (err: NodeJS.ErrnoException | null, fd: number): void => {
    this.#busy = false;
    if (err !== null) {
      this.#onError(`access log: cannot open ${this.#filePath}`, err);
    } else {
      const old = this.#fd;
      this.#fd = fd;
      if (old !== null) close(old, () => {});
    }
    this.#flush();
  };

  #settle(): void {
    if (this.#idleWaiters.length === 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }
}

/** The access log `config` asks for; `logger` hears about files that cannot be opened or written. */
export function createAccessLog(config: AccessLogConfig, logger?: Logger): AccessLog {
  const f = config.filters;
  const fields = config.fields;
  return new AccessLog({
    format: config.format,
    filePath: config.filePath,
    bufferingSize: config.bufferingSize,
    ...(f === undefined
      ? {}
      : {
          filters: { statusCodes: f.statusCodes, retryAttempts: f.retryAttempts, minDuration: f.minDuration },
        }),
    ...(fields === undefined
      ? {}
      : {
          fields: {
            defaultMode: fields.defaultMode,
            names: fields.names,
            headers: { defaultMode: fields.headers.defaultMode, names: fields.headers.names },
          },
        }),
    ...(logger === undefined
      ? {}
      : {
          onError: (message: string, error: Error) =>
            logger.error(message, { filePath: config.filePath, error }),
        }),
  });
}

/** Traefik's keepAccessLog. */
class RecordFilter {
  /** 1 at each kept status code. */
  readonly #status: Uint8Array | null;
  readonly #retries: boolean;
  readonly #minDuration: number;

  private constructor(status: Uint8Array | null, retries: boolean, minDuration: number) {
    this.#status = status;
    this.#retries = retries;
    this.#minDuration = minDuration;
  }

  /** null when no filter is configured: everything is kept (as Traefik with empty filters). */
  static from(f: AccessLogFilters): RecordFilter | null {
    let status: Uint8Array | null = null;
    for (const range of f.statusCodes) {
      const m = /^\s*(\d{3})(?:-(\d{3}))?\s*$/.exec(range);
      if (m === null) throw new Error(`access log: invalid status code range "${range}"`);
      status ??= new Uint8Array(1000);
      status.fill(1, Number(m[1]), Number(m[2] ?? m[1]) + 1);
    }
    if (status === null && !f.retryAttempts && f.minDuration <= 0) return null;
    return new RecordFilter(status, f.retryAttempts, f.minDuration);
  }

  keeps(r: AccessRecord): boolean {
    if (this.#status !== null && this.#status[r.status] === 1) return true;
    if (this.#retries && (r.retryAttempts ?? 0) > 0) return true;
    return this.#minDuration > 0 && r.durationMs >= this.#minDuration;
  }
}

interface JsonField {
  readonly key: string;
  /** Traefik's names for the same field. */
  readonly aliases: readonly string[];
  readonly value: (r: AccessRecord) => string | number | undefined;
}

/** Our JSON keys, in output order, with Traefik's field names as aliases. */
const JSON_FIELDS: readonly JsonField[] = [
  { key: 'time', aliases: ['StartUTC', 'StartLocal'], value: (r) => new Date(r.startTime).toISOString() },
  { key: 'clientIp', aliases: ['ClientHost', 'ClientAddr'], value: (r) => r.clientIp },
  { key: 'method', aliases: ['RequestMethod'], value: (r) => r.method },
  { key: 'host', aliases: ['RequestHost'], value: (r) => r.host },
  { key: 'path', aliases: ['RequestPath'], value: target },
  { key: 'protocol', aliases: ['RequestProtocol'], value: (r) => r.protocol },
  { key: 'status', aliases: ['DownstreamStatus'], value: (r) => r.status },
  { key: 'bytesIn', aliases: ['RequestContentSize'], value: (r) => r.bytesIn },
  { key: 'bytesOut', aliases: ['DownstreamContentSize'], value: (r) => r.bytesOut },
  { key: 'durationMs', aliases: ['Duration'], value: (r) => roundMs(r.durationMs) },
  { key: 'entryPoint', aliases: ['entryPointName'], value: (r) => r.entryPoint },
  { key: 'router', aliases: ['RouterName'], value: (r) => r.router },
  { key: 'service', aliases: ['ServiceName'], value: (r) => r.service },
  { key: 'server', aliases: ['ServiceURL', 'ServiceAddr'], value: (r) => r.server },
  { key: 'retryAttempts', aliases: ['RetryAttempts'], value: retries },
];

/** CLF slots (indexes into FieldPolicy's modes); the count has no JSON key, only Traefik's name. */
const CLF_FIELDS = [
  ['clientIp', 'ClientHost', 'ClientAddr'],
  ['time', 'StartUTC', 'StartLocal'],
  ['method', 'RequestMethod'],
  ['path', 'RequestPath'],
  ['protocol', 'RequestProtocol'],
  ['status', 'DownstreamStatus'],
  ['bytesOut', 'DownstreamContentSize'],
  ['requestCount', 'RequestCount'],
  ['router', 'RouterName'],
  ['server', 'ServiceURL', 'ServiceAddr'],
  ['durationMs', 'Duration'],
] as const;
const C_CLIENT = 0;
const C_TIME = 1;
const C_METHOD = 2;
const C_PATH = 3;
const C_PROTOCOL = 4;
const C_STATUS = 5;
const C_BYTES = 6;
const C_COUNT = 7;
const C_ROUTER = 8;
const C_SERVER = 9;
const C_DURATION = 10;
/** Header slots after the fields. */
const C_REFERER = 11;
const C_AGENT = 12;

/** Field and header modes, resolved once; only built when `fields` is configured. */
class FieldPolicy {
  readonly #json: { readonly key: string; readonly redact: boolean; readonly value: JsonField['value'] }[];
  /** Mode per CLF_FIELDS slot, then referer and user agent. */
  readonly #clf: Uint8Array;
  readonly #headerDefault: number;
  /** Lowercased header name → mode. */
  readonly #headerModes: Map<string, number>;

  constructor(f: AccessLogFields) {
    const names = lowerKeys(f.names);
    const modeOf = (keys: readonly string[]): number => {
      for (const k of keys) {
        const m = names.get(k.toLowerCase());
        if (m !== undefined) return m;
      }
      return MODE[f.defaultMode];
    };
    this.#json = [];
    for (const field of JSON_FIELDS) {
      const mode = modeOf([field.key, ...field.aliases]);
      if (mode !== DROP) this.#json.push({ key: field.key, redact: mode === REDACT, value: field.value });
    }
    this.#headerDefault = MODE[f.headers.defaultMode];
    this.#headerModes = lowerKeys(f.headers.names);
    this.#clf = new Uint8Array(C_AGENT + 1);
    for (const [i, keys] of CLF_FIELDS.entries()) this.#clf[i] = modeOf(keys);
    // Our CLF shows referer and user agent by default: only an explicit header mode hides them.
    this.#clf[C_REFERER] = this.#headerModes.get('referer') ?? KEEP;
    this.#clf[C_AGENT] = this.#headerModes.get('user-agent') ?? KEEP;
  }

  json(r: AccessRecord): string {
    const o: Record<string, string | number> = {};
    for (const f of this.#json) {
      const v = f.value(r);
      if (v !== undefined) o[f.key] = f.redact ? REDACTED : v;
    }
    const h = r.requestHeaders;
    if (h !== undefined) {
      for (let i = 0; i < h.lnames.length; i++) this.#header(o, h.lnames[i]!, h.names[i]!, h.values[i]!);
    } else {
      // Without the forwarded headers, the two the record carries anyway.
      if (r.userAgent !== '') this.#header(o, 'user-agent', 'User-Agent', r.userAgent);
      if (r.referer !== '') this.#header(o, 'referer', 'Referer', r.referer);
    }
    return `${JSON.stringify(o)}\n`;
  }

  #header(o: Record<string, string | number>, lname: string, name: string, value: string): void {
    const mode = this.#headerModes.get(lname) ?? this.#headerDefault;
    if (mode === DROP) return;
    // Traefik's keys: request_ + the canonical (Go) form of the name, whatever case the client used.
    const key = `request_${canonicalHeaderName(name)}`;
    const prev = o[key];
    o[key] = mode === REDACT ? REDACTED : prev === undefined ? value : `${prev}, ${value}`;
  }

  common(r: AccessRecord, count: number): string {
    const m = this.#clf;
    const duration = m[C_DURATION] === KEEP ? `${Math.round(r.durationMs)}ms` : plain(m, C_DURATION, '');
    return `${plain(m, C_CLIENT, r.clientIp)} - - [${plain(m, C_TIME, clfTime(r.startTime))}] "${plain(m, C_METHOD, r.method)} ${plain(m, C_PATH, target(r))} ${plain(m, C_PROTOCOL, r.protocol)}" ${plain(m, C_STATUS, r.status)} ${plain(m, C_BYTES, r.bytesOut)} ${quoted(m, C_REFERER, r.referer)} ${quoted(m, C_AGENT, r.userAgent)} ${plain(m, C_COUNT, count)} ${quoted(m, C_ROUTER, r.router)} ${quoted(m, C_SERVER, r.server)} ${duration}\n`;
  }
}

function plain(m: Uint8Array, slot: number, s: string | number): string {
  return m[slot] === KEEP ? String(s) : m[slot] === DROP ? '-' : REDACTED;
}

function quoted(m: Uint8Array, slot: number, s: string): string {
  return m[slot] === KEEP ? q(s) : m[slot] === DROP ? '"-"' : `"${REDACTED}"`;
}

function lowerKeys(names: Readonly<Record<string, FieldMode>>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of Object.entries(names)) out.set(k.toLowerCase(), MODE[v]);
  return out;
}

/** Go's textproto.CanonicalMIMEHeaderKey for token names: `x-request-id` → `X-Request-Id`. */
function canonicalHeaderName(name: string): string {
  let out = '';
  let upper = true;
  for (let i = 0; i < name.length; i++) {
    const c = name[i]!;
    out += upper ? c.toUpperCase() : c.toLowerCase();
    upper = c === '-';
  }
  return out;
}

function target(r: AccessRecord): string {
  return withQuery(r.path, r.query);
}

function retries(r: AccessRecord): number | undefined {
  return r.retryAttempts !== undefined && r.retryAttempts > 0 ? r.retryAttempts : undefined;
}

function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

function q(s: string): string {
  return s === '' ? '"-"' : JSON.stringify(s);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function clfTime(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

function toJson(r: AccessRecord): string {
  return `${JSON.stringify({
    time: new Date(r.startTime).toISOString(),
    clientIp: r.clientIp,
    method: r.method,
    host: r.host,
    path: target(r),
    protocol: r.protocol,
    status: r.status,
    bytesIn: r.bytesIn,
    bytesOut: r.bytesOut,
    durationMs: roundMs(r.durationMs),
    entryPoint: r.entryPoint,
    router: r.router,
    service: r.service,
    server: r.server,
    // Only when retried, so that the common case keeps its shape (JSON.stringify skips undefined).
    retryAttempts: retries(r),
  })}\n`;
}

/** Common Log Format plus Traefik's extra fields (referer, user agent, request count, router, server, duration). */
function toCommon(r: AccessRecord, count: number): string {
  return `${r.clientIp} - - [${clfTime(r.startTime)}] "${r.method} ${target(r)} ${r.protocol}" ${r.status} ${r.bytesOut} ${q(r.referer)} ${q(r.userAgent)} ${count} ${q(r.router)} ${q(r.server)} ${Math.round(r.durationMs)}ms\n`;
}
