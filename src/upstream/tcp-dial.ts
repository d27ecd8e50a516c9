import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';

/** What one connection to a TCP server needs. */
export interface TcpDialTarget {
  readonly host: string;
  readonly port: number;
  /** 0 = no limit (the OS's connect timeout). */
  readonly timeoutMs: number;
  /** TCP keep-alive probes after this idle time; -1 = off. */
  readonly keepAliveMs: number;
  /** Written first, before any payload and before TLS (the PROXY protocol header). */
  readonly preamble: Buffer | null;
  readonly tls: {
    readonly secureContext: import('node:tls').SecureContext;
    readonly servername: string | undefined;
    readonly rejectUnauthorized: boolean;
  } | null;
}

/** Why a dial failed, as the access log and metrics tell it. */
export type TcpDialFailure = 'timeout' | 'refused' | 'unreachable' | 'tls' | 'error';

export interface TcpDialCallbacks {
  connected(upstream: Duplex): void;
  failed(why: TcpDialFailure, message: string): void;
}

/** A dial in progress; `abort` drops it (the client left). */
export interface PendingDial {
  abort(): void;
}

const GO_KEEPALIVE_MS = 15_000;

function failureOf(e: NodeJS.ErrnoException): TcpDialFailure {
  switch (e.code) {
    case 'ECONNREFUSED':
    case 'ECONNRESET':
      return 'refused';
    case 'ENETUNREACH':
    case 'EHOSTUNREACH':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'unreachable';
    default:
      return (e.code ?? '').startsWith('ERR_TLS') || (e.code ?? '').startsWith('ERR_SSL') ? 'tls' : 'error';
  }
}

/**
 * Opens one connection to a TCP server (Traefik's TCP dialer, pkg/tcp/dialer.go): connect with
 * `dialTimeout` and keep-alive, write the PROXY protocol header if any, then TLS if the server
 * has `tls: true`. Reports once, through `cb`.
 */
export function dialTcp(t: TcpDialTarget, cb: TcpDialCallbacks): PendingDial {
  let done = false;
  let timer: NodeJS.Timeout | undefined;
  let tlsSocket: TLSSocket | null = null;
  const socket: Socket = connect({ host: t.host, port: t.port, noDelay: true, allowHalfOpen: true });
  if (t.keepAliveMs >= 0) socket.setKeepAlive(true, t.keepAliveMs === 0 ? GO_KEEPALIVE_MS : t.keepAliveMs);
  const fail = (why: TcpDialFailure, message: string): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    socket.destroy();
    tlsSocket?.destroy();
    cb.failed(why, message);
  };
  const succeed = (s: Duplex): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    socket.off('error', onError);
    tlsSocket?.off('error', onError);
    cb.connected(s);
  };
  const onError = (e: NodeJS.ErrnoException): void => fail(failureOf(e), e.message);
  socket.on('error', onError);
  if (t.timeoutMs > 0) {
    timer = setTimeout(() => fail('timeout', `dial timeout after ${t.timeoutMs}ms`), t.timeoutMs);
    timer.unref();
  }
  socket.once('connect', () => {
    if (t.preamble !== null) socket.write(t.preamble);
    if (t.tls === null) {
      succeed(socket);
      return;
    }
    const tls = process.getBuiltinModule('node:tls');
    const s = tls.connect({
      socket,
      secureContext: t.tls.secureContext,
      rejectUnauthorized: t.tls.rejectUnauthorized,
      ...(t.tls.servername === undefined ? {} : { servername: t.tls.servername }),
    });
    tlsSocket = s;
    s.on('error', onError);
    s.once('secureConnect', () => succeed(s));
  });
  return { abort: () => fail('error', 'aborted') };
}
