/**
 * HTTPS for the ACME client. `fetch` cannot take a private CA without undici's Dispatcher, which
 * Node bundles but does not export, so this is `node:https` with `ca` on a keep-alive agent.
 * `node:https` is imported on first use: a proxy without ACME never loads it.
 */
import type { Agent } from 'node:https';
import { AcmeTransportError } from './acme-errors.ts';

export interface AcmeHttpRequest {
  readonly method: 'GET' | 'HEAD' | 'POST';
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly signal?: AbortSignal;
}

export interface AcmeHttpResponse {
  readonly status: number;
  /** Lowercased names; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string;
}

export interface AcmeTransport {
  send(req: AcmeHttpRequest): Promise<AcmeHttpResponse>;
  close(): void;
}

export interface HttpsTransportOptions {
  /** PEM bundle to trust instead of the system roots (a private or test CA such as pebble's). */
  readonly caCertificates?: string;
  /** Per request, from connect to the end of the body. Default 30 s. */
  readonly timeoutMs?: number;
  readonly userAgent?: string;
}

/** A CA has no business sending more than this; a certificate chain is a few KiB. */
const MAX_BODY_BYTES = 1 << 20;

export function httpsTransport(opts: HttpsTransportOptions = {}): AcmeTransport {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const userAgent = opts.userAgent ?? 'traffic-management-acme/0.1';
  let agent: Agent | undefined;
  let https: typeof import('node:https') | undefined;

  const send = async (req: AcmeHttpRequest): Promise<AcmeHttpResponse> => {
    const url = new URL(req.url);
    // RFC 8555 §6.1: ACME is HTTPS only; a JWS with our account key never goes out in the clear.
    if (url.protocol !== 'https:') throw new AcmeTransportError(`ACME URL is not https: ${req.url}`);
    https ??= await import('node:https');
    agent ??= new https.Agent({
      keepAlive: true,
      maxSockets: 4,
      ...(opts.caCertificates === undefined ? {} : { ca: opts.caCertificates }),
    });
    const h = https;
    const a = agent;
    return new Promise<AcmeHttpResponse>((resolve, reject) => {
      const headers: Record<string, string> = { 'user-agent': userAgent, ...req.headers };
      if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body));
      const r = h.request(url, {
        method: req.method,
        headers,
        agent: a,
        timeout: timeoutMs,
        ...(req.signal === undefined ? {} : { signal: req.signal }),
      });
      const fail = (e: unknown): void => {
        r.destroy();
        reject(
          e instanceof AcmeTransportError
            ? e
            : new AcmeTransportError(`${req.method} ${req.url}: ${(e as Error).message}`, { cause: e }),
        );
      };
      const deadline = setTimeout(
        () => fail(new Error(`no complete response in ${timeoutMs} ms`)),
        timeoutMs,
      );
      deadline.unref();
      r.on('timeout', () => fail(new Error('socket idle timeout')));
      r.on('error', (e) => {
        clearTimeout(deadline);
        fail(e);
      });
      r.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_BODY_BYTES) fail(new Error(`response larger than ${MAX_BODY_BYTES} bytes`));
          else chunks.push(c);
        });
        res.on('error', (e) => {
          clearTimeout(deadline);
          fail(e);
        });
        res.on('end', () => {
          clearTimeout(deadline);
          const out: Record<string, string | undefined> = {};
          for (const [k, v] of Object.entries(res.headers)) out[k] = Array.isArray(v) ? v.join(', ') : v;
          resolve({
            status: res.statusCode ?? 0,
            headers: out,
            body: Buffer.concat(chunks).toString('utf8'),
          });
        });
      });
      r.end(req.body);
    });
  };

  return {
    send,
    close: () => {
      agent?.destroy();
      agent = undefined;
    },
  };
}
