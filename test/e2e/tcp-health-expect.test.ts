/**
 * A TCP health check's `expect` is read once, as Traefik's executeHealthCheck reads it
 * (pkg/healthcheck/healthcheck_tcp.go, v3.7/v3.8: one `conn.Read` into a buffer as long as
 * `expect`): a server whose reply comes in two segments is found down there, and here too; one
 * that answers in one segment stays up.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { tcpExchange } from '../helpers/l4.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

/** Answers `ping` with `hello`, whole or as `he` then (once `he` is surely sent) `llo`; serves `name\n` to other clients. */
async function startReplier(name: string, split: boolean): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => {
    s.on('error', () => {});
    s.once('data', (d: Buffer) => {
      if (d.toString() !== 'ping') {
        s.end(`${name}\n`);
        return;
      }
      if (!split) {
        s.end('hello');
        return;
      }
      s.write('he', () => setTimeout(() => s.end('llo'), 300));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port };
}

describe('TCP health check expect, read once', () => {
  let whole: Awaited<ReturnType<typeof startReplier>>;
  let split: Awaited<ReturnType<typeof startReplier>>;
  let proxy: ProxyProcess;

  before(async () => {
    whole = await startReplier('whole', false);
    split = await startReplier('split', true);
    proxy = await startProxy({
      config: `entryPoints:
  tcpin:
    address: "127.0.0.1:0"
log: { level: INFO }
tcp:
  routers:
    all: { entryPoints: [tcpin], rule: "HostSNI(\`*\`)", service: both }
  services:
    both:
      loadBalancer:
        servers: [{ address: "127.0.0.1:${whole.port}" }, { address: "127.0.0.1:${split.port}" }]
        healthCheck: { interval: 200ms, timeout: 5s, send: ping, expect: hello }
`,
    });
  });

  after(async () => {
    await proxy?.stop();
    whole?.server.close();
    split?.server.close();
  });

  it('finds the server whose reply is split over two reads down; the other serves every connection', async () => {
    await proxy.waitForLog((l) => l.msg === 'server down' && l.server === `127.0.0.1:${split.port}`, 20_000);
    for (let i = 0; i < 4; i++) {
      const r = await tcpExchange(proxy.ports['tcpin']!, 'x');
      assert.equal(r.data.toString(), 'whole\n');
    }
    assert.ok(
      !proxy.logs.some((l) => l.msg === 'server down' && l.server === `127.0.0.1:${whole.port}`),
      'the server that answers in one read is never found down',
    );
  });
});
