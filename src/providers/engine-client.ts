import {
  type Agent,
  request as httpRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
} from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { ConnectionOptions } from 'node:tls';

export { clientTlsOptions } from '../core/client-tls.ts';

/**
 * The HTTP client every provider talks to its engine with (the HTTP endpoint, etcd's JSON
 * gateway, Consul, the Docker Engine API, a Kubernetes API server): node:http over TCP, TLS or a
 * unix socket. Off the request path, so node:http is fine here.
 */
export interface EngineRequest {
  readonly url: string;
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
  /** For `unix://` engines (Docker): the socket; `url` then only gives the path. */
  readonly socketPath?: string;
  /**
   * An agent of its own: one going through a proxy (a Kubernetes `proxy-url`, HTTPS_PROXY), or
   * Docker's `ssh://` one whose connections are ssh processes (`url` then gives only the path).
   */
  readonly agent?: Agent;
  readonly tls?: ConnectionOptions;
  readonly signal?: AbortSignal;
}

/** A failure talking to the engine; the supervisor restarts the provider after it. */
export class EngineError extends Error {
  readonly status: number;
  /** The system error's code when the connection failed (`ENOENT`, `ECONNREFUSED`, `EACCES`…). */
  readonly sysCode: string | undefined;
  constructor(message: string, status = 0, sysCode?: string) {
    super(message);
    this.name = 'EngineError';
    this.status = status;
    this.sysCode = sysCode;
  }
}

/** Sends a request and resolves with the response head; the body is the caller's to read. */
export function engineRequest(r: EngineRequest): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const url = new URL(r.url);
    const https = url.protocol === 'https:';
    const headers: OutgoingHttpHeaders = { ...r.headers };
    if (r.body !== undefined) headers['content-length'] = Buffer.byteLength(r.body);
    const opts = {
      method: r.method ?? 'GET',
      path: `${url.pathname}${url.search}`,
      headers,
      ...(r.socketPath !== undefined
        ? { socketPath: r.socketPath }
        : { host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port || (https ? 443 : 80) }),
      ...(https ? (r.tls ?? {}) : {}),
      ...(r.signal !== undefined ? { signal: r.signal } : {}),
      // One request, one connection (engines are few and polls far apart), unless an agent is given.
      agent: r.agent ?? (false as const),
    };
    const req = (https ? httpsRequest : httpRequest)(opts, resolve);
    req.on('error', (e) => {
      const code = (e as { code?: unknown }).code;
      reject(
        new EngineError(
          `${r.method ?? 'GET'} ${r.url}: ${describe(e)}`,
          0,
          typeof code === 'string' ? code : undefined,
        ),
      );
    });
    req.end(r.body);
  });
}

/** Reads a whole body, refusing one larger than `maxBytes` (-1 = no limit). */
export async function readBody(res: IncomingMessage, maxBytes = -1): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res) {
    const b = chunk as Buffer;
    size += b.length;
    if (maxBytes >= 0 && size > maxBytes) {
      res.destroy();
      throw new EngineError(`the response body is larger than ${maxBytes} bytes`);
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/** GET (or another method) and the whole body, failing on a status other than `ok`. */
export async function engineFetch(
  r: EngineRequest,
  ok: readonly number[] = [200],
  maxBytes = -1,
): Promise<{ res: IncomingMessage; body: Buffer }> {
  const res = await engineRequest(r);
  const body = await readBody(res, maxBytes).catch((e: unknown) => {
    throw e instanceof EngineError ? e : new EngineError(`${r.url}: ${describe(e)}`);
  });
  if (!ok.includes(res.statusCode ?? 0)) {
    const text = body.toString('utf8', 0, Math.min(body.length, 200)).trim();
    throw new EngineError(
      `${r.method ?? 'GET'} ${r.url}: status ${res.statusCode}${text === '' ? '' : `: ${text}`}`,
      res.statusCode ?? 0,
    );
  }
  return { res, body };
}

/**
 * Each line of a streamed body (Docker events, etcd and Kubernetes watches send one JSON
 * document per line), as it arrives. Ends when the body ends.
 */
export async function* lines(res: IncomingMessage): AsyncGenerator<string> {
  let rest = '';
  res.setEncoding('utf8');
  for await (const chunk of res) {
    rest += chunk as string;
    let nl = rest.indexOf('\n');
    while (nl !== -1) {
      const line = rest.slice(0, nl).trim();
      rest = rest.slice(nl + 1);
      if (line !== '') yield line;
      nl = rest.indexOf('\n');
    }
  }
  if (rest.trim() !== '') yield rest.trim();
}

export function describe(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  const message = e instanceof Error ? e.message : String(e);
  return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
}
