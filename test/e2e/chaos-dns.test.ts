/**
 * Chaos: an upstream host name that stops resolving (edge-rules §4.2 row 6), with the real
 * resolver path the proxy uses (node's dns.lookup: getaddrinfo, /etc/resolv.conf).
 *
 * How it stays test-owned: the proxy runs in a mount namespace of its own (`unshare --mount`) in
 * which a resolv.conf written by the test is bind-mounted over /etc/resolv.conf. It points at a
 * DNS server of the test on 127.83.83.83:53 (the machine's resolver and /etc are never touched,
 * and no other process sees the change). The server answers, then says NXDOMAIN, SERVFAIL, or
 * nothing at all (a timeout), then answers again. Needs root (port 53, mount); skipped with the
 * reason when that is not possible.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TestDnsServer } from '../../src/tls/acme/test-dns-server.ts';
import { type Backend, startBackend } from '../helpers/backends.ts';
import {
  assertBackToIdle,
  assertClassified,
  type FaultResult,
  type Footprint,
  fireFaults,
  footprint,
  HealthyProbe,
  idleChange,
  paths,
} from '../helpers/chaos.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

const DNS_HOST = '127.83.83.83';
const NAME = 'backend.chaos.test';

/** Why this suite cannot run here, or false. */
function cannotRun(): string | false {
  if (process.getuid?.() !== 0) return 'needs root (a DNS server on port 53 and a private bind mount)';
  const dir = mkdtempSync(join(tmpdir(), 'tm-dns-probe-'));
  try {
    writeFileSync(join(dir, 'resolv.conf'), `nameserver ${DNS_HOST}\n`);
    execFileSync(
      'unshare',
      ['--mount', '--', 'sh', '-c', 'mount --bind "$0" /etc/resolv.conf', join(dir, 'resolv.conf')],
      { stdio: 'pipe', timeout: 5000 },
    );
    return false;
  } catch (e) {
    return `unshare --mount / mount --bind is not permitted here (util-linux; a container without CAP_SYS_ADMIN): ${(e as Error).message.split('\n')[0]}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const skip = cannotRun();

/** A UDP socket on the DNS address that reads queries and never answers: lookups time out. */
async function silentDns(): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(53, DNS_HOST, () => resolve());
  });
  return s;
}

describe('chaos: an upstream name that stops resolving', { skip, concurrency: false }, () => {
  let dir: string;
  let dns: TestDnsServer | undefined;
  let healthy: Backend;
  let named: Backend;
  let proxy: ProxyProcess;
  let pid: number;
  let idle: Footprint;

  const answer = async (): Promise<void> => {
    dns = await TestDnsServer.start([{ name: NAME, type: 'A', value: '127.0.0.1' }], DNS_HOST, 53);
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tm-chaos-dns-'));
    const resolv = join(dir, 'resolv.conf');
    // One try, one second: a dead server makes a lookup fail in about a second.
    writeFileSync(resolv, `nameserver ${DNS_HOST}\noptions timeout:1 attempts:1\n`);
    await answer();
    healthy = await startBackend((_req, res) => res.end('healthy'));
    named = await startBackend((_req, res) => res.end('named'));
    const url = `http://${NAME}:${named.port}`;
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
serversTransport:
  forwardingTimeouts: { idleConnTimeout: 1s }
http:
  serversTransports:
    fresh: { maxIdleConnsPerHost: -1 }
    pooled: { forwardingTimeouts: { idleConnTimeout: 60s } }
  routers:
    ok: { rule: "PathPrefix(\`/ok/\`)", service: ok }
    fresh: { rule: "PathPrefix(\`/fresh/\`)", service: fresh }
    pooled: { rule: "PathPrefix(\`/pooled/\`)", service: pooled }
  services:
    ok: { loadBalancer: { servers: [{ url: "${healthy.url}" }] } }
    fresh: { loadBalancer: { serversTransport: fresh, servers: [{ url: "${url}" }] } }
    pooled: { loadBalancer: { serversTransport: pooled, servers: [{ url: "${url}" }] } }
`,
      wrap: [
        'unshare',
        '--mount',
        '--',
        'sh',
        '-c',
        'mount --bind "$0" /etc/resolv.conf && exec "$@"',
        resolv,
      ],
    });
    pid = proxy.child.pid!;
    idle = footprint(pid);
  });

  after(async () => {
    await proxy?.stop();
    await dns?.close();
    await Promise.all([healthy?.close(), named?.close()]);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('resolves the name through the test server at first', async () => {
    const results = await fireFaults(
      proxy.port,
      [...paths('fresh', 'first', 5), ...paths('pooled', 'first', 1)],
      1,
    );
    assert.deepEqual(await assertClassified(proxy, results), { ok: 6 });
    assert.ok(
      dns!.questions.some((q) => q.name === NAME && q.type === 'A'),
      'the proxy asked our server',
    );
  });

  for (const [mode, set] of [
    ['NXDOMAIN', (s: TestDnsServer) => (s.rcode = 3)],
    ['SERVFAIL', (s: TestDnsServer) => (s.rcode = 2)],
  ] as const) {
    it(`answers 502 (UPSTREAM_DNS) for new upstream connections while the server says ${mode}, keeps a pooled one, and recovers`, async (t) => {
      const probe = new HealthyProbe(`http://127.0.0.1:${proxy.port}/ok/${mode}`);
      set(dns!);
      const failing = await fireFaults(proxy.port, paths('fresh', mode, 20), 4);
      // One client at a time: each request finds the connection the last one left in the pool.
      const pooled = await fireFaults(proxy.port, paths('pooled', mode, 10), 1);
      dns!.rcode = undefined;
      const back = await fireFaults(proxy.port, paths('fresh', `${mode}-back`, 5), 1);
      await probe.stopAndAssert(mode);
      assert.deepEqual(await assertClassified(proxy, failing, { okAllowed: false }), {
        '502 UPSTREAM_DNS': 20,
      });
      assert.deepEqual(await assertClassified(proxy, pooled), { ok: 10 });
      assert.deepEqual(await assertClassified(proxy, back), { ok: 5 });
      t.diagnostic(idleChange(idle, await assertBackToIdle(pid, idle, mode, 15_000)));
    });
  }

  it('answers 502 (UPSTREAM_DNS) when the server stops answering (timeout), without slowing the healthy route, and recovers', async (t) => {
    const probe = new HealthyProbe(`http://127.0.0.1:${proxy.port}/ok/timeout`);
    await dns!.close();
    dns = undefined;
    const silent = await silentDns();
    let failing: FaultResult[];
    try {
      failing = await fireFaults(proxy.port, paths('fresh', 'timeout', 8), 8);
    } finally {
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
    await answer();
    const back = await fireFaults(proxy.port, paths('fresh', 'timeout-back', 5), 1);
    const stats = await probe.stopAndAssert('dns timeout');
    assert.deepEqual(await assertClassified(proxy, failing, { okAllowed: false }), { '502 UPSTREAM_DNS': 8 });
    assert.deepEqual(await assertClassified(proxy, back), { ok: 5 });
    t.diagnostic(`healthy requests served while lookups timed out: ${stats.ok}`);
    t.diagnostic(idleChange(idle, await assertBackToIdle(pid, idle, 'dns timeout', 15_000)));
  });
});
