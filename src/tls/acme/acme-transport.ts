/**
 * HTTPS for the ACME client. `fetch` cannot take a private CA without undici's Dispatcher, which
 * Node bundles but does not export, so this is `node:https` with `ca` on a keep-alive agent.
 * `node:https` is imported on first use: a proxy without ACME never loads it.
 */
import type { Agent } from 'node:https';
import { isLoopbackHost } from '../../core/loopback.ts';
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
  /**
   * Traefik's `caSystemCertPool`: with `caCertificates` or `caServerName`, trust the system's
   * roots as well as `caCertificates` (lego's CreateCertPool starts from x509.SystemCertPool).
   */
  readonly caSystemCertPool?: boolean;
  /**
   * Traefik's `caServerName`: the name sent in SNI and checked against the CA's certificate
   * instead of the URL's host (tls.Config.ServerName).
   */
  readonly caServerName?: string;
  /**
   * Traefik's `clientTimeout`: one request whole, from the start of the connection to the end of
   * the body (Go's http.Client.Timeout). 0 = no limit. Default 2 min, Traefik's.
   */
  readonly timeoutMs?: number;
  /**
   * Traefik's `clientResponseHeaderTimeout`: from the request sent to the response's head (Go's
   * Transport.ResponseHeaderTimeout). 0 = no limit. Default 30 s, Traefik's.
   */
  readonly responseHeaderTimeoutMs?: number;
  readonly userAgent?: string;
  /** Where HTTPS_PROXY and NO_PROXY are read (default: the process's). */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Go's http.ProxyFromEnvironment, which Traefik's ACME client (lego over Go's default
 * transport) uses: for an https URL, `HTTPS_PROXY` (else `https_proxy`), minus the hosts of
 * `NO_PROXY` (else `no_proxy`). Undefined: no proxy. Node's agent reads the same two variables
 * (`proxyEnv`) and tunnels through the proxy with CONNECT, as Go does.
 */
function proxyEnvOf(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv | undefined {
  const proxy = env['HTTPS_PROXY'] || env['https_proxy'];
  if (proxy === undefined || proxy === '') return undefined;
  const noProxy = env['NO_PROXY'] || env['no_proxy'];
  return { HTTPS_PROXY: proxy, ...(noProxy ? { NO_PROXY: noProxy } : {}) };
}

/**
 * The agent's `ca` and `servername`, as Traefik's pkg/provider/acme/provider.go
 * createClientTLSConfig: with `caCertificates` or `caServerName`, the roots are those
 * certificates, plus the system's with `caSystemCertPool` (lego's CreateCertPool; none at all with
 * neither, as there), and the server name `caServerName`; else Node's default roots.
 */
async function trustOptions(opts: HttpsTransportOptions): Promise<{ ca?: string[]; servername?: string }> {
  const custom = opts.caCertificates !== undefined && opts.caCertificates.trim() !== '';
  const name = opts.caServerName !== undefined && opts.caServerName !== '';
  if (!custom && !name) return {};
  const ca: string[] = [];
  if (opts.caSystemCertPool === true) ca.push(...(await import('node:tls')).getCACertificates('system'));
  if (custom) ca.push(opts.caCertificates!);
  return { ca, ...(name ? { servername: opts.caServerName! } : {}) };
}

/** Go's dialer Timeout and TLSHandshakeTimeout in Traefik's ACME client: 30 s each. */
const CONNECT_TIMEOUT_MS = 30_000;

/** A CA has no business sending more than this; a certificate chain is a few KiB. */
const MAX_BODY_BYTES = 1 << 20;

export function httpsTransport(opts: HttpsTransportOptions = {}): AcmeTransport {
  // As Traefik's pkg/provider/acme/provider.go createHTTPClient: the client's Timeout is
  // clientTimeout, the transport's ResponseHeaderTimeout clientResponseHeaderTimeout, 30 s to dial
  // and 30 s for the TLS handshake.
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const headerTimeoutMs = opts.responseHeaderTimeoutMs ?? 30_000;
  const userAgent = opts.userAgent ?? 'traffic-management-acme/0.1';
  let agent: Agent | undefined;
  let proxied: Agent | undefined;
  let https: typeof import('node:https') | undefined;
  const proxyEnv = proxyEnvOf(opts.env ?? process.env);

  const send = async (req: AcmeHttpRequest): Promise<AcmeHttpResponse> => {
    const url = new URL(req.url);
    // RFC 8555 §6.1: ACME is HTTPS only; a JWS with our account key never goes out in the clear.
    if (url.protocol !== 'https:') throw new AcmeTransportError(`ACME URL is not https: ${req.url}`);
    https ??= await import('node:https');
    // Go's httpproxy: requests to localhost and loopback addresses never go through the proxy.
    const direct = proxyEnv === undefined || isLoopbackHost(url.hostname);
    if (direct) agent ??= new https.Agent({ keepAlive: true, maxSockets: 4, ...(await trustOptions(opts)) });
    else
      proxied ??= new https.Agent({
        keepAlive: true,
        maxSockets: 4,
        proxyEnv,
        ...(await trustOptions(opts)),
      });
    const h = https;
    const a = (direct ? agent : proxied)!;
    return new Promise<AcmeHttpResponse>((resolve, reject) => {
      const headers: Record<string, string> = { 'user-agent': userAgent, ...req.headers };
      if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body));
      const r = h.request(url, {
        method: req.method,
        headers,
        agent: a,
        ...(req.signal === undefined ? {} : { signal: req.signal }),
      });
      let deadline: NodeJS.Timeout | undefined;
      let phase: NodeJS.Timeout | undefined;
      let settled = false;
      const clear = (): void => {
        settled = true;
        if (deadline !== undefined) clearTimeout(deadline);
        if (phase !== undefined) clearTimeout(phase);
      };
      const fail = (e: unknown): void => {
        if (settled) return;
        clear();
        r.destroy();
        reject(
          e instanceof AcmeTransportError
            ? e
            : new AcmeTransportError(`${req.method} ${req.url}: ${(e as Error).message}`, { cause: e }),
        );
      };
      /** One timer at a time: the connection, the handshake, then the response head. */
      const arm = (ms: number, what: string): void => {
        if (phase !== undefined) clearTimeout(phase);
        phase = undefined;
        if (settled || ms <= 0) return;
        phase = setTimeout(() => fail(new Error(what)), ms);
        phase.unref();
      };
      if (timeoutMs > 0) {
        deadline = setTimeout(
          () => fail(new Error(`no complete response within clientTimeout (${timeoutMs} ms)`)),
          timeoutMs,
        );
        deadline.unref();
      }
      // The response-head timer starts once the request is written on a ready connection (Go's
      // ResponseHeaderTimeout "after fully writing the request").
      let ready = false;
      let written = false;
      const waitHead = (): void => {
        if (ready && written)
          arm(
            headerTimeoutMs,
            `no response headers within clientResponseHeaderTimeout (${headerTimeoutMs} ms)`,
          );
      };
      r.on('socket', (socket) => {
        const tls = socket as import('node:tls').TLSSocket;
        if (!socket.connecting && tls.encrypted === true && socket.readyState === 'open') {
          ready = true; // a kept-alive connection
          waitHead();
          return;
        }
        arm(CONNECT_TIMEOUT_MS, `no connection within ${CONNECT_TIMEOUT_MS} ms`);
        socket.once('connect', () =>
          arm(CONNECT_TIMEOUT_MS, `no TLS handshake within ${CONNECT_TIMEOUT_MS} ms`),
        );
        socket.once('secureConnect', () => {
          arm(0, '');
          ready = true;
          waitHead();
        });
      });
      r.on('finish', () => {
        written = true;
        waitHead();
      });
      r.on('error', fail);
      r.on('response', (res) => {
        arm(0, '');
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_BODY_BYTES) fail(new Error(`response larger than ${MAX_BODY_BYTES} bytes`));
          else chunks.push(c);
        });
        res.on('error', fail);
        res.on('end', () => {
          if (settled) return;
          clear();
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
      proxied?.destroy();
      proxied = undefined;
    },
  };
}
