/**
 * Traefik's TCP health check (pkg/healthcheck/healthcheck_tcp.go executeHealthCheck, v3.7/v3.8):
 * connect (TLS for a TLS server, the service's dialer), write `send` if set, then read once into
 * a buffer as long as `expect` (`conn.Read(buf)`), which must then equal `expect`: a reply that
 * comes in two reads fails, as there. The whole probe is bound by `timeout`. It never throws;
 * its socket is destroyed when it settles.
 */
import { connect, type Socket } from 'node:net';
import type { ProbeResult, ProbeTarget } from './probe.ts';

export interface TcpProbeOptions {
  readonly send: string | undefined;
  readonly expect: string | undefined;
  readonly timeoutMs: number;
  /** Probe this port instead of the server's. */
  readonly port: number | undefined;
}

export function tcpProbe(
  target: ProbeTarget,
  opts: TcpProbeOptions,
  signal: AbortSignal,
): Promise<ProbeResult> {
  // An address no dial can use (config/dynamic/server-address.ts): down, without a lookup.
  if (target.unusable !== undefined) return Promise.resolve({ ok: false, reason: target.unusable });
  return new Promise((resolve) => {
    let settled = false;
    let stream: Socket | import('node:tls').TLSSocket | null = null;
    const raw = connect({ host: target.host, port: opts.port ?? target.port, noDelay: true });
    const expected = opts.expect === undefined || opts.expect === '' ? null : Buffer.from(opts.expect);
    const settle = (ok: boolean, reason: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      raw.destroy();
      stream?.destroy();
      resolve({ ok, reason });
    };
    const onAbort = (): void => settle(false, 'aborted');
    signal.addEventListener('abort', onAbort);
    const timer = setTimeout(() => settle(false, `timeout after ${opts.timeoutMs}ms`), opts.timeoutMs);
    timer.unref();
    const onError = (e: NodeJS.ErrnoException): void => settle(false, `connect ${e.code ?? e.message}`);
    raw.on('error', onError);
    const ready = (s: Socket | import('node:tls').TLSSocket): void => {
      stream = s;
      if (opts.send !== undefined && opts.send !== '') s.write(opts.send);
      if (expected === null) {
        settle(true, 'connected');
        return;
      }
      s.once('data', (d: Buffer) => {
        // One read: Go's buffer keeps zeros past what it returned, and ignores the rest.
        const head =
          d.length >= expected.length
            ? d.subarray(0, expected.length)
            : Buffer.concat([d, Buffer.alloc(expected.length - d.length)]);
        const ok = head.equals(expected);
        settle(ok, ok ? 'expected reply' : 'unexpected reply');
      });
      s.on('end', () => settle(false, 'closed before the expected reply'));
    };
    raw.once('connect', () => {
      const t = target.tls;
      if (t === undefined) {
        ready(raw);
        return;
      }
      if (t.refusal !== undefined) {
        settle(false, t.refusal);
        return;
      }
      const s = process.getBuiltinModule('node:tls').connect({
        socket: raw,
        secureContext: t.secureContext,
        rejectUnauthorized: t.rejectUnauthorized,
        ...(t.servername === undefined ? {} : { servername: t.servername }),
        ...(t.checkServerIdentity === undefined ? {} : { checkServerIdentity: t.checkServerIdentity }),
      });
      s.on('error', onError);
      s.once('secureConnect', () => ready(s));
    });
  });
}
