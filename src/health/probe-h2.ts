/*
 * One HTTP/2 request of a health probe over a fresh session: h2c with prior knowledge, or TLS with
 * ALPN h2 (the server's transport settings). Used by gRPC health checks and by HTTP checks of
 * `h2c://` servers, which do not speak HTTP/1.1. node:http2 is loaded on the first such probe.
 */
import type { ClientHttp2Session, IncomingHttpHeaders } from 'node:http2';
import type { ProbeTls } from './probe.ts';

export interface H2ProbeRequest {
  readonly host: string;
  readonly port: number;
  /** `:authority`. */
  readonly authority: string;
  readonly method: string;
  readonly path: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly body?: Buffer;
  readonly tls?: ProbeTls | undefined;
  /** Settle at the response head (an HTTP check, judged on its status as Traefik's). */
  readonly untilHead?: boolean;
}

export type H2ProbeOutcome =
  | {
      readonly ok: true;
      readonly status: number;
      /** Response header fields, then trailer fields (gRPC's status is in either). */
      readonly headers: IncomingHttpHeaders;
      readonly trailers: IncomingHttpHeaders;
      readonly body: Buffer;
    }
  | { readonly ok: false; readonly phase: 'connect' | 'request'; readonly reason: string };

/** Bodies beyond this are not kept: a health answer is a few bytes. */
const MAX_BODY = 64 * 1024;

/**
 * Sends the request and calls `done` once (response ended, or failed). Returns a function that
 * tears the session down, for the caller's timeout and abort.
 */
export function sendH2Probe(req: H2ProbeRequest, done: (o: H2ProbeOutcome) => void): () => void {
  let settled = false;
  let session: ClientHttp2Session | undefined;
  const finish = (o: H2ProbeOutcome): void => {
    if (settled) return;
    settled = true;
    session?.destroy();
    done(o);
  };
  const http2 = process.getBuiltinModule('node:http2');
  const host = req.host.includes(':') ? `[${req.host}]` : req.host;
  const t = req.tls;
  let connected = false;
  try {
    session =
      t === undefined
        ? http2.connect(`http://${host}:${req.port}`)
        : http2.connect(`https://${host}:${req.port}`, {
            secureContext: t.secureContext,
            rejectUnauthorized: t.rejectUnauthorized,
            ALPNProtocols: ['h2'],
            ...(t.servername !== undefined ? { servername: t.servername } : {}),
            ...(t.checkServerIdentity !== undefined ? { checkServerIdentity: t.checkServerIdentity } : {}),
          });
  } catch (e) {
    finish({ ok: false, phase: 'connect', reason: errorCode(e) });
    return () => {};
  }
  session.on('connect', () => {
    connected = true;
  });
  session.on('error', (e: Error) =>
    finish({ ok: false, phase: connected ? 'request' : 'connect', reason: errorCode(e) }),
  );
  session.on('close', () =>
    finish({ ok: false, phase: connected ? 'request' : 'connect', reason: 'ECONNRESET' }),
  );
  const fields: Record<string, string> = {
    ':method': req.method,
    ':path': req.path,
    ':authority': req.authority,
  };
  for (const [n, v] of req.headers) {
    const ln = n.toLowerCase();
    if (ln !== 'host' && ln !== 'connection') fields[ln] = v;
  }
  let stream: ReturnType<ClientHttp2Session['request']>;
  try {
    stream = session.request(fields, { endStream: req.body === undefined });
  } catch (e) {
    finish({ ok: false, phase: 'request', reason: `invalid request: ${errorCode(e)}` });
    return () => finish({ ok: false, phase: 'request', reason: 'aborted' });
  }
  let status = 0;
  let headers: IncomingHttpHeaders = {};
  let trailers: IncomingHttpHeaders = {};
  const chunks: Buffer[] = [];
  let size = 0;
  stream.on('response', (h) => {
    headers = h;
    status = Number(h[':status']);
    if (req.untilHead === true) finish({ ok: true, status, headers, trailers, body: Buffer.alloc(0) });
  });
  stream.on('trailers', (h) => {
    trailers = h;
  });
  stream.on('data', (d: Buffer) => {
    if (size + d.length <= MAX_BODY) chunks.push(d);
    size += d.length;
  });
  stream.on('end', () => finish({ ok: true, status, headers, trailers, body: Buffer.concat(chunks) }));
  stream.on('error', (e: Error) => finish({ ok: false, phase: 'request', reason: errorCode(e) }));
  stream.on('close', () => {
    if (stream.rstCode !== undefined && stream.rstCode !== 0) {
      finish({ ok: false, phase: 'request', reason: `stream reset (code ${stream.rstCode})` });
    }
  });
  if (req.body !== undefined) stream.end(req.body);
  return () => finish({ ok: false, phase: 'request', reason: 'aborted' });
}

function errorCode(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : e instanceof Error ? e.message : String(e);
}
