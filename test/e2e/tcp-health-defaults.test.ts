/**
 * A TCP service's health check with zero or negative durations and `port: 0` loads, as in
 * Traefik (pkg/healthcheck/healthcheck_tcp.go NewServiceTCPHealthChecker uses its defaults, 30s
 * and 5s, and logs an error; `port: 0` is the server's port): a warning each, and the check runs
 * with the defaults, finding the dead server down while the live one serves.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePort, startEchoServer, type TcpBackend, tcpExchange } from '../helpers/l4.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

describe('TCP health check with Traefik’s non-positive durations', () => {
  let live: TcpBackend;
  let dead = 0;
  let proxy: ProxyProcess;

  before(async () => {
    [live, dead] = await Promise.all([startEchoServer('live\n'), freePort()]);
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
        servers: [{ address: "${live.address}" }, { address: "127.0.0.1:${dead}" }]
        healthCheck: { interval: 0s, unhealthyInterval: -1s, timeout: 0s, port: 0 }
`,
    });
  });

  after(async () => {
    await proxy?.stop();
    await live?.close();
  });

  it('loads with a warning per duration, and the check runs with the defaults', async () => {
    assert.ok(proxy.logs.some((l) => l.msg === 'configuration applied'));
    const warnings = proxy.logs
      .map((l) => (typeof l.issue === 'string' ? l.issue : ''))
      .filter((i) => i.includes('is not positive: the default'));
    assert.equal(warnings.length, 3, JSON.stringify(warnings));
    // The first probes come within a tenth of the default 30s interval.
    await proxy.waitForLog((l) => l.msg === 'server down' && l.server === `127.0.0.1:${dead}`, 20_000);
    // With a 0 ms timeout every probe would fail: the live server stays up and gets them all.
    for (let i = 0; i < 4; i++) {
      const r = await tcpExchange(proxy.ports['tcpin']!, null, { untilData: '\n' });
      assert.equal(r.data.toString(), 'live\n');
    }
    assert.ok(
      !proxy.logs.some((l) => l.msg === 'server down' && l.server === live.address),
      'the live server was never found down',
    );
  });
});
