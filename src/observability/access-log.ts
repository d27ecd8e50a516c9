import { open, write } from 'node:fs';

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
}

export interface AccessLogOptions {
  readonly format: 'json' | 'common';
  /** '' = stdout. */
  readonly filePath: string;
  /** Flush when this many bytes are pending. */
  readonly bufferBytes?: number;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * Writes access log lines without blocking the event loop: lines accumulate in memory and are
 * written with asynchronous fs.write (thread pool) at most one write at a time. stdout as a pipe
 * is synchronous on Linux, which is why we do not use process.stdout here.
 */
export class AccessLog {
  readonly #format: 'json' | 'common';
  readonly #bufferBytes: number;
  #pending: string[] = [];
  #pendingBytes = 0;
  #fd: number | null;
  #writing = false;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #onIdle: (() => void) | null = null;
  /** Requests logged since start: Traefik's CLF carries this count. */
  #count = 0;

  constructor(opts: AccessLogOptions) {
    this.#format = opts.format;
    this.#bufferBytes = opts.bufferBytes ?? 32 * 1024;
    this.#fd = opts.filePath === '' ? 1 : null;
    if (opts.filePath !== '') {
      open(opts.filePath, 'a', 0o640, (err, fd) => {
        if (err) {
          process.emitWarning(`access log: cannot open ${opts.filePath}: ${err.message}`);
          return;
        }
        this.#fd = fd;
        this.#flush();
      });
    }
  }

  log(r: AccessRecord): void {
    if (this.#closed) return;
    this.#count++;
    const line = this.#format === 'json' ? toJson(r) : toCommon(r, this.#count);
    this.#pending.push(line);
    this.#pendingBytes += line.length;
    if (this.#pendingBytes >= this.#bufferBytes) this.#flush();
    else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#flush();
      }, 50);
      this.#timer.unref();
    }
  }

  #flush(): void {
    if (this.#writing || this.#fd === null || this.#pending.length === 0) {
      if (!this.#writing && this.#pending.length === 0) this.#onIdle?.();
      return;
    }
    const data = this.#pending.join('');
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#writing = true;
    write(this.#fd, data, null, 'utf8', () => {
      this.#writing = false;
      this.#flush();
    });
  }

  /** Flushes what is pending; resolves when written. */
  close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    return new Promise((resolve) => {
      this.#onIdle = resolve;
      this.#flush();
    });
  }
}

function toJson(r: AccessRecord): string {
  return `${JSON.stringify({
    time: new Date(r.startTime).toISOString(),
    clientIp: r.clientIp,
    method: r.method,
    host: r.host,
    path: r.query === '' ? r.path : `${r.path}?${r.query}`,
    protocol: r.protocol,
    status: r.status,
    bytesIn: r.bytesIn,
    bytesOut: r.bytesOut,
    durationMs: Math.round(r.durationMs * 1000) / 1000,
    entryPoint: r.entryPoint,
    router: r.router,
    service: r.service,
    server: r.server,
  })}\n`;
}

/** Common Log Format plus Traefik's extra fields (referer, user agent, request count, router, server, duration). */
function toCommon(r: AccessRecord, count: number): string {
  const d = new Date(r.startTime);
  const pad = (n: number) => (n < 10 ? `0${n}` : String(n));
  const ts = `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
  const target = r.query === '' ? r.path : `${r.path}?${r.query}`;
  const q = (s: string) => (s === '' ? '"-"' : JSON.stringify(s));
  return `${r.clientIp} - - [${ts}] "${r.method} ${target} ${r.protocol}" ${r.status} ${r.bytesOut} ${q(r.referer)} ${q(r.userAgent)} ${count} ${q(r.router)} ${q(r.server)} ${Math.round(r.durationMs)}ms\n`;
}
