/**
 * How TCP connections end, as Traefik's pkg/tcp ends them (v3.7.18/v3.8.0):
 * - a refused connection (ipAllowList, inFlightConn, no server, a failed dial) is closed with a
 *   FIN (`conn.Close()`), not reset;
 * - a reset from one side reaches the other as a FIN (Proxy.connCopy: the read error ends that
 *   copy, then CloseWrite);
 * - a router that terminates TLS dials its server before the client's handshake goes on (the
 *   TLSHandler's tls.Conn handshakes on its first read, after the dial): a failed dial cuts it;
 * - a service that names no serversTransport (nor the deprecated terminationDelay) closes both
 *   sides as soon as one sends its FIN (DialerManager.Build: a termination delay of 0);
 * - a TLS server whose transport names no serverName (nor insecureSkipVerify) is never reached:
 *   Go's tls.Client refuses the handshake (tcpTLSDialer).
 * A FIN shows as the client socket's 'end'; a reset as an ECONNRESET error. The refused clients
 * send nothing: bytes left unread make the kernel reset instead, in Traefik and here
 * (tcp-faults.test.ts shows it).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startEchoServer, startTlsBackend, type TcpBackend, tcpExchange } from '../helpers/l4.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { handshake, type Issued, TestPki } from '../helpers/tls-certs.ts';

/** Accepts, greets with `bye\n`, and resets the connection on the client's first bytes. */
async function startGreetThenReset(): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer((s) => {
    s.on('error', () => {});
    s.write('bye\n');
    s.once('data', () => s.resetAndDestroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  return { port, close: () => new Promise((r) => server.close(() => r())) };
}

/** Answers `ok\n` to the first bytes, and records how each connection ended ('end' or an error code). */
async function startRecorder(): Promise<{ port: number; ends: string[]; close(): Promise<void> }> {
  const ends: string[] = [];
  const open = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (s) => {
    open.add(s);
    s.once('data', () => s.write('ok\n'));
    s.on('end', () => ends.push('end'));
    s.on('error', (e: NodeJS.ErrnoException) => ends.push(e.code ?? e.message));
    s.on('close', () => open.delete(s));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  return {
    port,
    ends,
    close: () =>
      new Promise((r) => {
        for (const s of open) s.destroy();
        server.close(() => r());
      }),
  };
}

/** Replies `late\n` only once the client's FIN has come, then closes. */
async function startReplyAfterFin(): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => {});
    s.resume();
    s.on('end', () => s.end('late\n'));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  return { port, close: () => new Promise((r) => server.close(() => r())) };
}

describe('TCP connections end as in Traefik', () => {
  let pki: TestPki;
  let cert: Issued;
  let echo: TcpBackend;
  let tlsEcho: TcpBackend;
  let resetter: Awaited<ReturnType<typeof startGreetThenReset>>;
  let recorder: Awaited<ReturnType<typeof startRecorder>>;
  let afterFin: Awaited<ReturnType<typeof startReplyAfterFin>>;
  let proxy: ProxyProcess;

  before(async () => {
    pki = new TestPki('Close CA');
    cert = pki.issue('close.test', ['close.test']);
    echo = await startEchoServer();
    tlsEcho = await startTlsBackend(pki.issue('localhost', ['localhost']), 'echo', 'db');
    resetter = await startGreetThenReset();
    recorder = await startRecorder();
    afterFin = await startReplyAfterFin();
    const eps = [
      'denied',
      'limited',
      'empty',
      'nodial',
      'reset',
      'record',
      'fin0',
      'finLb',
      'finInternal',
      'tlsDown',
      'tlsUp',
      'noName',
      'named',
    ];
    proxy = await startProxy({
      entryPoints: eps.length,
      config: `entryPoints:
${eps.map((e) => `  ${e}: { address: "127.0.0.1:0" }`).join('\n')}
log: { level: DEBUG }
tls:
  certificates:
    - { certFile: close.pem, keyFile: close.key }
tcp:
  routers:
    denied: { entryPoints: [denied], rule: "HostSNI(\`*\`)", service: echo, middlewares: [nobody] }
    limited: { entryPoints: [limited], rule: "HostSNI(\`*\`)", service: echo, middlewares: [one] }
    empty: { entryPoints: [empty], rule: "HostSNI(\`*\`)", service: empty }
    nodial: { entryPoints: [nodial], rule: "HostSNI(\`*\`)", service: nodial }
    reset: { entryPoints: [reset], rule: "HostSNI(\`*\`)", service: reset }
    record: { entryPoints: [record], rule: "HostSNI(\`*\`)", service: record }
    fin0: { entryPoints: [fin0], rule: "HostSNI(\`*\`)", service: afterFin }
    finLb: { entryPoints: [finLb], rule: "HostSNI(\`*\`)", service: afterFinLb }
    finInternal: { entryPoints: [finInternal], rule: "HostSNI(\`*\`)", service: afterFinInternal }
    tlsDown: { entryPoints: [tlsDown], rule: "HostSNI(\`close.test\`)", service: nodial, tls: {} }
    tlsUp: { entryPoints: [tlsUp], rule: "HostSNI(\`close.test\`)", service: echo, tls: {} }
    noName: { entryPoints: [noName], rule: "HostSNI(\`*\`)", service: noName }
    named: { entryPoints: [named], rule: "HostSNI(\`*\`)", service: named }
  middlewares:
    nobody: { ipAllowList: { sourceRange: ["192.0.2.0/24"] } }
    one: { inFlightConn: { amount: 1 } }
  services:
    echo: { loadBalancer: { servers: [{ address: "${echo.address}" }], serversTransport: patient } }
    empty: { loadBalancer: { servers: [] } }
    nodial: { loadBalancer: { servers: [{ address: "127.0.0.1:1" }] } }
    reset: { loadBalancer: { servers: [{ address: "127.0.0.1:${resetter.port}" }], serversTransport: patient } }
    record: { loadBalancer: { servers: [{ address: "127.0.0.1:${recorder.port}" }], serversTransport: patient } }
    afterFin: { loadBalancer: { servers: [{ address: "127.0.0.1:${afterFin.port}" }] } }
    afterFinLb: { loadBalancer: { servers: [{ address: "127.0.0.1:${afterFin.port}" }], terminationDelay: 30000 } }
    afterFinInternal:
      loadBalancer:
        servers: [{ address: "127.0.0.1:${afterFin.port}" }]
        serversTransport: default@internal
        terminationDelay: 30000
    noName:
      loadBalancer:
        servers: [{ address: "localhost:${tlsEcho.port}", tls: true }]
        serversTransport: caOnly
    named:
      loadBalancer:
        servers: [{ address: "localhost:${tlsEcho.port}", tls: true }]
        serversTransport: caAndName
  serversTransports:
    patient: { terminationDelay: 30s }
    caOnly: { tls: { rootCAs: ["${pki.ca.certFile}"] } }
    caAndName: { tls: { rootCAs: ["${pki.ca.certFile}"], serverName: localhost } }
`,
      files: { 'close.pem': cert.certPem, 'close.key': cert.keyPem },
    });
  });

  after(async () => {
    await proxy?.stop('SIGTERM', 3_000);
    await Promise.all([
      echo?.close(),
      tlsEcho?.close(),
      resetter?.close(),
      recorder?.close(),
      afterFin?.close(),
    ]);
    pki?.remove();
  });

  const port = (ep: string): number => proxy.ports[ep]!;

  it('closes a refused connection with a FIN: ipAllowList, inFlightConn, no server, a failed dial', async () => {
    for (const ep of ['denied', 'empty', 'nodial']) {
      const r = await tcpExchange(port(ep), null);
      assert.equal(r.how, 'end', ep);
      assert.equal(r.data.length, 0, ep);
    }
    const first = connect(port('limited'), '127.0.0.1');
    first.on('error', () => {});
    first.write('one');
    await once(first, 'data');
    const second = await tcpExchange(port('limited'), null);
    assert.equal(second.how, 'end', 'past inFlightConn');
    first.destroy();
  });

  it("passes a server's reset on to the client as a FIN, after what it sent", async () => {
    // The server greets, and resets on the client's first bytes: sent once the greeting came.
    const s = connect(port('reset'), '127.0.0.1');
    const got: Buffer[] = [];
    const how = await new Promise<string>((resolve) => {
      s.on('data', (d: Buffer) => {
        got.push(d);
        if (Buffer.concat(got).toString() === 'bye\n') s.write('x');
      });
      s.on('end', () => resolve('end'));
      s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      setTimeout(() => resolve('timeout'), 10_000).unref();
    });
    s.destroy();
    assert.equal(how, 'end');
    assert.equal(Buffer.concat(got).toString(), 'bye\n');
  });

  it("passes a client's reset on to the server as a FIN", async () => {
    const before = recorder.ends.length;
    const s = connect(port('record'), '127.0.0.1');
    s.on('error', () => {});
    s.write('hi');
    await once(s, 'data');
    s.resetAndDestroy();
    for (let i = 0; i < 200 && recorder.ends.length === before; i++)
      await new Promise((r) => setTimeout(r, 50));
    assert.equal(recorder.ends[before], 'end');
  });

  it('closes both sides at the first FIN for a service without serversTransport (terminationDelay 0)', async () => {
    const r = await tcpExchange(port('fin0'), 'q', { end: true });
    assert.equal(r.how, 'end');
    assert.equal(r.data.toString(), '', 'the reply written after the FIN is not waited for');
    // The deprecated service key still gives the server its time.
    const lb = await tcpExchange(port('finLb'), 'q', { end: true });
    assert.equal(lb.data.toString(), 'late\n');
    // Naming Traefik's default@internal transport (accepted: no issue about it): its delay (0)
    // wins over the deprecated key.
    assert.ok(!proxy.logs.some((l) => JSON.stringify(l).includes('default@internal')), 'no issue');
    const internal = await tcpExchange(port('finInternal'), 'q', { end: true });
    assert.equal(internal.how, 'end');
    assert.equal(internal.data.toString(), '');
  });

  it("cuts a TLS client's handshake when its router's server cannot be dialled", async () => {
    const down = await handshake({ port: port('tlsDown'), servername: 'close.test', ca: pki.ca.certPem });
    assert.equal(down.ok, false, 'no handshake completes');
    const up = await handshake({ port: port('tlsUp'), servername: 'close.test', ca: pki.ca.certPem });
    assert.equal(up.ok, true);
  });

  it('never reaches a TLS server whose transport names no serverName (Go refuses the handshake)', async () => {
    const accepted = tlsEcho.accepted;
    const r = await tcpExchange(port('noName'), null);
    assert.equal(r.data.length, 0);
    assert.equal(r.how, 'end');
    assert.equal(tlsEcho.accepted, accepted, 'no TLS connection was completed');
    const named = await tcpExchange(port('named'), 'ping\n', { untilData: 'ping\n' });
    assert.equal(named.data.toString(), 'ping\n');
  });
});
