/**
 * gRPC through the real proxy with real gRPC peers (@grpc/grpc-js): the four call kinds through
 * the h2c and the TLS (ALPN h2) entry points to h2c and TLS backends, metadata and trailers end to
 * end, status details, deadlines, cancellation, the proxy's own errors as gRPC statuses, no replay
 * of a call that sent data, a backend killed mid-stream, and gRPC health checks.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer as createH2Server, connect as h2connect, type IncomingHttpHeaders } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import {
  type EchoClient,
  echoClient,
  type GrpcBackend,
  startGrpcBackend,
  unary,
} from '../helpers/grpc-backend.ts';
import { engineEnv, H2_ENGINES } from '../helpers/h2-engines.ts';
import { type ProxyProcess, ROOT, startProxy } from '../helpers/proxy-process.ts';
import { type Issued, TestPki } from '../helpers/tls-certs.ts';

/** Collects a server-streaming or bidi call: its messages and its final status. */
function collect(
  call: grpc.ClientReadableStream<Buffer>,
): Promise<{ messages: string[]; status: grpc.StatusObject }> {
  return new Promise((resolve) => {
    const messages: string[] = [];
    call.on('data', (b: Buffer) => messages.push(b.toString()));
    call.on('error', () => {});
    call.on('status', (status: grpc.StatusObject) => resolve({ messages, status }));
  });
}

function clientStream(
  client: EchoClient,
  parts: string[],
): Promise<{ reply: string; error: grpc.ServiceError | null }> {
  return new Promise((resolve) => {
    const call = (
      client.clientStream as (
        cb: (e: grpc.ServiceError | null, r?: Buffer) => void,
      ) => grpc.ClientWritableStream<Buffer>
    )((e, r) => resolve({ reply: r?.toString() ?? '', error: e }));
    for (const p of parts) call.write(Buffer.from(p));
    call.end();
  });
}

/** Sends one HTTP/2 request with node:http2 (no gRPC library, no deadline of its own). */
function rawH2(
  port: number,
  headers: Record<string, string>,
  body: Buffer,
): Promise<{ headers: IncomingHttpHeaders; trailers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const s = h2connect(`http://127.0.0.1:${port}`);
    s.on('error', reject);
    const req = s.request({ ':method': 'POST', ...headers });
    let h: IncomingHttpHeaders = {};
    let t: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    req.on('response', (x) => {
      h = x;
    });
    req.on('trailers', (x) => {
      t = x;
    });
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('error', reject);
    req.on('end', () => {
      s.close();
      resolve({ headers: h, trailers: t, body: Buffer.concat(chunks) });
    });
    req.end(body);
  });
}

const grpcFrame = (text: string): Buffer => {
  const p = Buffer.from(text);
  const b = Buffer.alloc(5 + p.length);
  b.writeUInt32BE(p.length, 1);
  p.copy(b, 5);
  return b;
};

for (const engine of H2_ENGINES) {
  describe(`gRPC through the proxy [${engine} engine]`, () => {
    let pki: TestPki;
    let proxyCert: Issued;
    let h2cBackend: GrpcBackend;
    let tlsBackend: GrpcBackend;
    let healthBackend: GrpcBackend;
    let resetServer: ReturnType<typeof createH2Server>;
    let resetStreams = 0;
    let proxy: ProxyProcess;
    const clients: EchoClient[] = [];
    const client = (ep: 'h2c' | 'secure', authority: string): EchoClient => {
      const c = echoClient(proxy.ports[ep]!, authority, ep === 'secure' ? pki.ca.certPem : undefined);
      clients.push(c);
      return c;
    };

    before(async () => {
      pki = new TestPki();
      proxyCert = pki.issue('proxy', [
        'h2c.test',
        'tls.test',
        'limited.test',
        'down.test',
        'none.test',
        '127.0.0.1',
      ]);
      const backendCert = pki.issue('grpc-backend', ['127.0.0.1']);
      h2cBackend = await startGrpcBackend('h2c');
      tlsBackend = await startGrpcBackend('tls', backendCert);
      healthBackend = await startGrpcBackend('health');
      // Resets every stream once its request body has arrived, before any response byte.
      resetServer = createH2Server();
      resetServer.on('stream', (s) => {
        s.on('error', () => {});
        s.on('data', () => {});
        s.on('end', () => {
          resetStreams++;
          s.close(2);
        });
      });
      await new Promise<void>((r) => resetServer.listen(0, '127.0.0.1', r));
      const resetPort = (resetServer.address() as AddressInfo).port;
      proxy = await startProxy({
        env: engineEnv(engine),
        config: `entryPoints:
  h2c:
    address: "127.0.0.1:0"
  secure:
    address: "127.0.0.1:0"
    http: { tls: {} }
log: { level: DEBUG }
tls:
  certificates:
    - { certFile: "${proxyCert.certFile}", keyFile: "${proxyCert.keyFile}" }
http:
  routers:
    h2c: { rule: "Host(\`h2c.test\`)", service: grpc-h2c }
    tls: { rule: "Host(\`tls.test\`)", service: grpc-tls }
    limited: { rule: "Host(\`limited.test\`)", service: grpc-h2c, middlewares: [limit] }
    down: { rule: "Host(\`down.test\`)", service: grpc-down }
    retried: { rule: "Host(\`retried.test\`)", service: resets, middlewares: [retry] }
    health: { rule: "Host(\`health.test\`)", service: grpc-health }
    tls-health: { rule: "Host(\`tls-health.test\`)", service: grpc-tls-health }
  middlewares:
    limit: { rateLimit: { average: 1, period: 1m, burst: 1 } }
    retry: { retry: { attempts: 3, initialInterval: 1ms, retryNonIdempotentMethod: true, status: ["502"] } }
  services:
    grpc-h2c:
      loadBalancer: { servers: [{ url: "h2c://127.0.0.1:${h2cBackend.port}" }] }
    grpc-tls:
      loadBalancer:
        serversTransport: backend-ca
        servers: [{ url: "https://127.0.0.1:${tlsBackend.port}" }]
    grpc-down:
      loadBalancer: { servers: [{ url: "h2c://127.0.0.1:1" }] }
    resets:
      loadBalancer: { servers: [{ url: "h2c://127.0.0.1:${resetPort}" }] }
    grpc-health:
      loadBalancer:
        servers: [{ url: "h2c://127.0.0.1:${healthBackend.port}" }]
        healthCheck: { mode: grpc, interval: 100ms, timeout: 1s }
    grpc-tls-health:
      loadBalancer:
        serversTransport: backend-ca
        servers: [{ url: "https://127.0.0.1:${tlsBackend.port}" }]
        healthCheck: { mode: grpc, interval: 100ms, timeout: 1s }
  serversTransports:
    backend-ca:
      rootCAs: ["${pki.ca.certFile}"]
`,
      });
    });

    after(async () => {
      for (const c of clients) c.close();
      await proxy?.stop();
      await h2cBackend?.close();
      await tlsBackend?.close();
      await healthBackend?.close();
      resetServer?.close();
      pki?.remove();
    });

    for (const ep of ['h2c', 'secure'] as const) {
      for (const backend of ['h2c', 'tls'] as const) {
        it(`makes all four kinds of call through the ${ep} entry point to the ${backend} backend, metadata and trailers both ways`, async () => {
          const c = client(ep, `${backend}.test`);
          const md = new grpc.Metadata();
          md.set('x-req', 'hello');
          md.set('x-bin-bin', Buffer.from([0, 1, 2, 255]));
          const u = await unary(c, 'unary', 'ping', { metadata: md });
          assert.equal(u.error, null);
          assert.equal(u.reply!.toString(), `${backend}:ping`);
          assert.equal(u.headers!.get('x-seen')[0], 'hello', 'request metadata reached the server');
          assert.deepEqual(u.headers!.get('x-bin-bin')[0], Buffer.from([0, 1, 2, 255]));
          assert.equal(
            u.status!.metadata.get('x-trail')[0],
            `${backend}-done`,
            'trailing metadata came back',
          );

          const ss = await collect(
            (c.serverStream as (r: Buffer) => grpc.ClientReadableStream<Buffer>)(Buffer.from('5')),
          );
          assert.equal(ss.status.code, grpc.status.OK);
          assert.deepEqual(
            ss.messages,
            [0, 1, 2, 3, 4].map((i) => `${backend} ${i}`),
          );
          assert.equal(ss.status.metadata.get('x-trail')[0], `${backend}-done`);

          const cs = await clientStream(c, ['a', 'b', 'c']);
          assert.equal(cs.error, null);
          assert.equal(cs.reply, `${backend}:a+b+c`);

          const bidi = (c.bidi as () => grpc.ClientDuplexStream<Buffer, Buffer>)();
          const got: string[] = [];
          const status = new Promise<grpc.StatusObject>((r) => bidi.on('status', r));
          // Each answer arrives before the next message is sent: the call is truly interactive.
          for (const m of ['one', 'two', 'three']) {
            const answer = new Promise<void>((r) =>
              bidi.once('data', (b: Buffer) => {
                got.push(b.toString());
                r();
              }),
            );
            bidi.write(Buffer.from(m));
            await answer;
          }
          bidi.end();
          assert.equal((await status).code, grpc.status.OK);
          assert.deepEqual(got, ['echo one', 'echo two', 'echo three']);
        });
      }
    }

    it('relays the status of a call the server ends while the client is still sending', async () => {
      for (const ep of ['h2c', 'secure'] as const) {
        const bidi = (client(ep, 'h2c.test').bidi as () => grpc.ClientDuplexStream<Buffer, Buffer>)();
        bidi.on('error', () => {});
        const status = new Promise<grpc.StatusObject>((r) => bidi.on('status', r));
        bidi.write(Buffer.from('abort'));
        const s = await status;
        assert.equal(s.code, grpc.status.ABORTED, s.details);
        assert.equal(s.details, 'aborted by the server');
      }
    });

    it('relays a server error with its code, message and binary status details', async () => {
      const u = await unary(client('h2c', 'h2c.test'), 'fail', 'order 7');
      assert.equal(u.error!.code, grpc.status.FAILED_PRECONDITION);
      assert.equal(u.error!.details, 'precondition failed: ünïcode %');
      assert.deepEqual(
        u.error!.metadata.get('grpc-status-details-bin')[0],
        Buffer.from('details of order 7'),
      );
    });

    it('ends a call past its deadline with DEADLINE_EXCEEDED, and the server sees it cancelled', async () => {
      const cancelled = h2cBackend.cancelled();
      const u = await unary(client('secure', 'h2c.test'), 'slow', '5000', { deadlineMs: 200 });
      assert.equal(u.error!.code, grpc.status.DEADLINE_EXCEEDED);
      assert.equal(await cancelled, 'slow');
    });

    it('passes a client cancellation on to the server', async () => {
      const cancelled = h2cBackend.cancelled();
      const call = (
        client('h2c', 'h2c.test').serverStream as (r: Buffer) => grpc.ClientReadableStream<Buffer>
      )(Buffer.from('0'));
      const done = collect(call);
      await new Promise<void>((r) => call.once('data', () => r()));
      call.cancel();
      assert.equal((await done).status.code, grpc.status.CANCELLED);
      assert.equal(await cancelled, 'serverStream');
    });

    it('makes grpc-timeout the deadline of the proxy: DEADLINE_EXCEEDED even for a client that does not enforce it', async () => {
      const cancelled = h2cBackend.cancelled();
      const r = await rawH2(
        proxy.ports.h2c!,
        {
          ':path': '/test.Echo/Slow',
          ':authority': 'h2c.test',
          'content-type': 'application/grpc',
          te: 'trailers',
          'grpc-timeout': '300m',
        },
        grpcFrame('5000'),
      );
      assert.equal(r.headers[':status'], 200);
      // grpc-js enforces the forwarded grpc-timeout too: on a loaded machine its own trailers-only
      // answer (`application/grpc+proto`) can reach us first. Either way the call ends at the deadline.
      assert.match(String(r.headers['content-type']), /^application\/grpc(\+proto)?$/);
      assert.equal(r.headers['grpc-status'], '4', 'trailers-only: DEADLINE_EXCEEDED');
      assert.equal(r.body.length, 0);
      assert.equal(await cancelled, 'slow', 'the proxy abandoned the call upstream');
    });

    it('answers its own errors as gRPC statuses: no route, server down, rate limited', async () => {
      const none = await unary(client('h2c', 'none.test'), 'unary', 'x');
      assert.equal(none.error!.code, grpc.status.NOT_FOUND);
      assert.equal(none.error!.details, '404 page not found');
      const down = await unary(client('secure', 'down.test'), 'unary', 'x');
      assert.equal(down.error!.code, grpc.status.UNAVAILABLE);
      assert.equal(down.error!.details, 'Bad Gateway');
      const limited = client('h2c', 'limited.test');
      assert.equal((await unary(limited, 'unary', 'first')).error, null);
      const second = await unary(limited, 'unary', 'second');
      assert.equal(second.error!.code, grpc.status.RESOURCE_EXHAUSTED);
    });

    it('never replays a gRPC call whose bytes reached the server, even under a retry policy', async () => {
      resetStreams = 0;
      const r = await unary(client('h2c', 'retried.test'), 'unary', 'once');
      assert.equal(r.error!.code, grpc.status.UNAVAILABLE);
      assert.equal(resetStreams, 1, 'sent once');
      // The same route retries a non-gRPC POST that failed the same way (the policy allows it).
      resetStreams = 0;
      await rawH2(
        proxy.ports.h2c!,
        { ':path': '/upload', ':authority': 'retried.test' },
        Buffer.from('data'),
      );
      assert.equal(resetStreams, 3);
    });

    it('breaks a call whose backend is killed mid-stream: UNAVAILABLE, never a clean end', async () => {
      const child: ChildProcess = spawn(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `import { startGrpcBackend } from './test/helpers/grpc-backend.ts';
         const b = await startGrpcBackend('doomed');
         console.log(b.port);`,
        ],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      const port = await new Promise<number>((r) =>
        child.stdout!.once('data', (d: Buffer) => r(Number(String(d).trim()))),
      );
      // A proxy of its own: the killed backend must not disturb the other tests' routes.
      const chaosProxy = await startProxy({
        env: engineEnv(engine),
        config: `entryPoints:
  h2c:
    address: "127.0.0.1:0"
log: { level: DEBUG }
http:
  routers:
    chaos: { rule: "Host(\`chaos.test\`)", service: doomed }
  services:
    doomed:
      loadBalancer: { servers: [{ url: "h2c://127.0.0.1:${port}" }] }
`,
      });
      const c = echoClient(chaosProxy.port, 'chaos.test');
      try {
        const call = (c.serverStream as (r: Buffer) => grpc.ClientReadableStream<Buffer>)(Buffer.from('0'));
        const done = collect(call);
        let n = 0;
        await new Promise<void>((r) =>
          call.on('data', () => {
            if (++n === 2) r();
          }),
        );
        child.kill('SIGKILL');
        const { status, messages } = await done;
        assert.ok(messages.length >= 2);
        assert.equal(status.code, grpc.status.UNAVAILABLE, status.details);
      } finally {
        c.close();
        child.kill('SIGKILL');
        await chaosProxy.stop();
      }
    });

    it('takes a server out when its gRPC health check says NOT_SERVING, and back when SERVING', async () => {
      const c = client('h2c', 'health.test');
      assert.equal((await unary(c, 'unary', 'x')).error, null);
      healthBackend.health = 'NOT_SERVING';
      await proxy.waitForLog((l) => l.msg === 'server down' && String(l.reason).includes('NOT_SERVING'));
      const down = await unary(c, 'unary', 'x');
      assert.equal(down.error!.code, grpc.status.UNAVAILABLE, 'no server available');
      healthBackend.health = 'SERVING';
      await proxy.waitForLog(
        (l) => l.msg === 'server up' && String(l.server).includes(String(healthBackend.port)),
      );
      assert.equal((await unary(c, 'unary', 'y')).error, null);
      assert.ok((healthBackend.calls.health ?? 0) >= 2);
    });

    it('checks an https server over TLS with the transport settings', async () => {
      const before = tlsBackend.calls.health ?? 0;
      tlsBackend.health = 'NOT_SERVING';
      await proxy.waitForLog(
        (l) => l.msg === 'server down' && String(l.server).includes(String(tlsBackend.port)),
      );
      tlsBackend.health = 'SERVING';
      await proxy.waitForLog(
        (l) => l.msg === 'server up' && String(l.server).includes(String(tlsBackend.port)),
      );
      assert.ok((tlsBackend.calls.health ?? 0) > before);
    });
  });
}
