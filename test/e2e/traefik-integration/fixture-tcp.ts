/**
 * What Traefik's layer-4 integration tests (integration/tcp_test.go, tcp_healthcheck_test.go,
 * udp_test.go, proxy_protocol_test.go) need beside ./fixture.ts: stand-ins for the traefik/whoamitcp
 * and traefik/whoamiudp containers, the Go tests' clients (guessWho, welcome), and fixtures whose
 * UDP entry points (`":8093/udp"`) move to 127.0.0.1:0 too.
 */
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { request } from 'node:https';
import { connect as connectTcp, createServer, type Socket } from 'node:net';
import { hostname } from 'node:os';
import {
  checkServerIdentity,
  connect as connectTls,
  createServer as createTlsServer,
  type SecureVersion,
  type TLSSocket,
} from 'node:tls';
import { listenTcpBackend, type TcpBackend } from '../../helpers/l4.ts';
import { type ProxyProcess, type StartOptions, startProxy } from '../../helpers/proxy-process.ts';
import type { Issued } from '../../helpers/tls-certs.ts';
import { adaptFixture, CONFIG_NAME } from './fixture.ts';

/** What whoamitcp and whoamiudp answer `WHO` with (their whoAmIInfo, loopback's address only). */
function whoAmIInfo(name: string): string {
  return `Name: ${name}\nHostname: ${hostname()}\nIP: 127.0.0.1\n`;
}

/**
 * traefik/whoamitcp (app.go serveTCP): `-banner` writes `Welcome\n` first; then each read is
 * answered: `WHO` (trimmed) with its name, `STOP` closes, anything else `Received: <data>`. With
 * a certificate it speaks TLS (tls.Listen).
 */
export function startWhoamiTcp(
  name: string,
  opts: { cert?: Issued; banner?: boolean } = {},
): Promise<TcpBackend> {
  const serve = (s: Socket): void => {
    if (opts.banner === true) s.write('Welcome\n');
    s.on('data', (d: Buffer) => {
      const text = d.toString('latin1').trim();
      if (text === 'STOP') s.end();
      else if (text === 'WHO') s.write(whoAmIInfo(name));
      else s.write(Buffer.concat([Buffer.from('Received: '), d]));
    });
    s.on('end', () => s.end());
  };
  if (opts.cert === undefined) return listenTcpBackend(createServer({ allowHalfOpen: true }), serve);
  const server = createTlsServer({ key: opts.cert.keyPem, cert: opts.cert.certPem, allowHalfOpen: true });
  return listenTcpBackend(server, serve, 'secureConnection');
}

export interface UdpBackend {
  readonly port: number;
  /** Datagrams received, as they arrived. */
  readonly received: Buffer[];
  close(): Promise<void>;
}

/** traefik/whoamiudp (app.go): `WHO` (trimmed) is answered with its name, anything else `Received: <data>`. */
export async function startWhoamiUdp(name: string): Promise<UdpBackend> {
  const socket = createSocket('udp4');
  const received: Buffer[] = [];
  socket.on('message', (msg, r) => {
    received.push(msg);
    const reply =
      msg.toString('latin1').trim() === 'WHO'
        ? Buffer.from(whoAmIInfo(name))
        : Buffer.concat([Buffer.from('Received: '), msg]);
    socket.send(reply, r.port, r.address);
  });
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return {
    port: socket.address().port,
    received,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

/**
 * The Go tests' guessWho / guessWhoTLSMaxVersion / guessWhoTLSPassthrough: connects (over TLS with
 * `servername` when `tls`), writes `WHO`, resolves with the first read; rejects with the
 * connection's error, or `EOF` when it is closed before any byte. `passthrough`: the certificate
 * must be the one of `servername` (its CN or its names), as guessWhoTLSPassthrough checks.
 */
export function guessWho(
  port: number,
  opts: { tls?: boolean; servername?: string; maxVersion?: SecureVersion; passthrough?: boolean } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const done = (e: Error | null, out?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      s.destroy();
      if (e === null) resolve(out ?? '');
      else reject(e);
    };
    const s: Socket | TLSSocket =
      opts.tls === true
        ? connectTls({
            host: '127.0.0.1',
            port,
            ...(opts.servername ? { servername: opts.servername } : {}),
            ...(opts.maxVersion === undefined ? {} : { maxVersion: opts.maxVersion }),
            rejectUnauthorized: false,
          })
        : connectTcp(port, '127.0.0.1');
    const timer = setTimeout(() => done(new Error('timeout')), 5_000);
    const write = (): void => {
      if (opts.passthrough === true) {
        const peer = (s as TLSSocket).getPeerCertificate();
        const cn = (peer.subject as { CN?: string } | undefined)?.CN;
        if (cn !== opts.servername && checkServerIdentity(opts.servername ?? '', peer) !== undefined) {
          done(new Error(`tls: no valid certificate for serverName ${opts.servername}`));
          return;
        }
      }
      s.write('WHO');
    };
    s.once(opts.tls === true ? 'secureConnect' : 'connect', write);
    s.once('data', (d: Buffer) => done(null, d.toString('latin1')));
    s.once('end', () => done(new Error('EOF')));
    s.once('error', (e) => done(e));
    s.once('close', () => done(new Error('EOF')));
  });
}

/** The Go tests' welcome: connects, writes nothing, resolves with the first read. */
export function welcome(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connectTcp(port, '127.0.0.1');
    const timer = setTimeout(() => s.destroy(new Error('timeout')), 10_000);
    s.once('data', (d: Buffer) => {
      clearTimeout(timer);
      s.destroy();
      resolve(d.toString('latin1'));
    });
    s.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    s.once('close', () => {
      clearTimeout(timer);
      reject(new Error('EOF'));
    });
  });
}

/** GET `path` over HTTPS to 127.0.0.1 (no SNI, any certificate, as the Go tests' InsecureSkipVerify). */
export function httpsGet(port: number, path: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, rejectUnauthorized: false, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** adaptFixture, and UDP entry points (`":8093/udp"`) moved to 127.0.0.1:0 as well. */
export function adaptL4Fixture(text: string, vars: Readonly<Record<string, string>> = {}): string {
  return adaptFixture(text, vars).replace(/^(\s*address\s*=\s*)"[^"]*:\d+\/udp"/gm, '$1"127.0.0.1:0/udp"');
}

/** startFixture for fixtures with UDP entry points too: waits for every one of them. */
export function startL4Fixture(
  text: string,
  vars: Readonly<Record<string, string>> = {},
  opts: Partial<StartOptions> = {},
): Promise<ProxyProcess> {
  const config = adaptL4Fixture(text, vars);
  return startProxy({
    config,
    configName: CONFIG_NAME,
    entryPoints: (config.match(/^\s*address\s*=\s*"127\.0\.0\.1:0(\/udp)?"/gm) ?? []).length,
    ...opts,
  });
}

/**
 * A PROXY protocol header written by hand, as go-proxyproto's Header.WriteTo writes it for the Go
 * tests: v1 `PROXY TCP4 src dst sport dport\r\n`; v2 the binary form (PROXY command, IPv4, TCP
 * or UDP). IPv4 only.
 */
export function proxyProtocolHeader(
  version: 1 | 2,
  transport: 'tcp' | 'udp',
  src: { ip: string; port: number },
  dst: { ip: string; port: number },
): Buffer {
  if (version === 1) {
    if (transport !== 'tcp') throw new Error('PROXY v1 has no UDP');
    return Buffer.from(`PROXY TCP4 ${src.ip} ${dst.ip} ${src.port} ${dst.port}\r\n`, 'latin1');
  }
  const head = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
  const body = Buffer.alloc(16 + 12);
  head.copy(body);
  body[12] = 0x21; // version 2, PROXY
  body[13] = transport === 'tcp' ? 0x11 : 0x12; // AF_INET, STREAM or DGRAM
  body.writeUInt16BE(12, 14);
  Buffer.from(src.ip.split('.').map(Number)).copy(body, 16);
  Buffer.from(dst.ip.split('.').map(Number)).copy(body, 20);
  body.writeUInt16BE(src.port, 24);
  body.writeUInt16BE(dst.port, 26);
  return body;
}
