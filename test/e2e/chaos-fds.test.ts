/**
 * Chaos: file-descriptor exhaustion (edge-rules §4.2 row 12). The proxy runs under
 * `prlimit --nofile=N:N` (soft = hard, so Node cannot raise it), and the test opens more idle
 * connections than it can hold. The process must stay up, the connections it already had must
 * keep working (a keep-alive client on a pooled upstream connection gets 200; one that needs a new
 * upstream socket gets a classified 502), and once descriptors are free again it accepts new
 * connections and goes back to its idle count.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Backend, startBackend } from '../helpers/backends.ts';
import {
  assertBackToIdle,
  assertClassified,
  type FaultResult,
  fireFaults,
  footprint,
  HealthyProbe,
  idleChange,
  paths,
} from '../helpers/chaos.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

const LIMIT = 96;
const IDLE_CONNECTIONS = 140;

/** One GET on `agent` (keep-alive), judged like the other chaos requests. */
function viaAgent(port: number, path: string, agent: Agent): Promise<FaultResult> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      let bytes = 0;
      res.on('data', (d: Buffer) => {
        bytes += d.length;
      });
      res.on('end', () =>
        resolve({ path, status: res.statusCode ?? 0, outcome: 'complete', detail: '', bodyBytes: bytes }),
      );
      res.on('error', (e) =>
        resolve({
          path,
          status: res.statusCode ?? 0,
          outcome: 'broken',
          detail: e.message,
          bodyBytes: bytes,
        }),
      );
    });
    req.on('error', (e) =>
      resolve({ path, status: null, outcome: 'error', detail: e.message, bodyBytes: 0 }),
    );
    req.end();
  });
}

const prlimitMissing = (() => {
  try {
    readFileSync('/usr/bin/prlimit');
    return false;
  } catch {
    return 'prlimit is missing (apt-get install util-linux)';
  }
})();

describe('chaos: file-descriptor exhaustion', { skip: prlimitMissing, concurrency: false }, () => {
  let a: Backend;
  let b: Backend;
  let c: Backend;
  let proxy: ProxyProcess;
  let pid: number;

  before(async () => {
    a = await startBackend((_req, res) => res.end('a'));
    b = await startBackend((_req, res) => res.end('b'));
    c = await startBackend((_req, res) => res.end('c'));
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
serversTransport:
  forwardingTimeouts: { idleConnTimeout: 1s }
http:
  serversTransports:
    keep: { forwardingTimeouts: { idleConnTimeout: 5s } }
  routers:
    ok: { rule: "PathPrefix(\`/ok/\`)", service: ok }
    probe: { rule: "PathPrefix(\`/probe/\`)", service: probe }
    other: { rule: "PathPrefix(\`/other/\`)", service: other }
  services:
    ok: { loadBalancer: { serversTransport: keep, servers: [{ url: "${a.url}" }] } }
    probe: { loadBalancer: { serversTransport: keep, servers: [{ url: "${c.url}" }] } }
    other: { loadBalancer: { servers: [{ url: "${b.url}" }] } }
`,
      wrap: ['prlimit', `--nofile=${LIMIT}:${LIMIT}`, '--'],
    });
    pid = proxy.child.pid!;
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all([a?.close(), b?.close(), c?.close()]);
  });

  it('runs under the descriptor limit it was given', () => {
    const limits = readFileSync(`/proc/${pid}/limits`, 'latin1');
    assert.match(limits, new RegExp(`^Max open files\\s+${LIMIT}\\s+${LIMIT}\\s`, 'm'));
  });

  it('stays up at the limit, keeps its connections working, and accepts again once descriptors are free', async (t) => {
    const idle = footprint(pid);
    // Established before the exhaustion: a keep-alive client whose upstream connection is pooled.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    assert.equal((await viaAgent(proxy.port, '/ok/warm', agent)).status, 200);
    // The probe has a server (so a pool) of its own: one sequential client, one pooled connection.
    const probe = new HealthyProbe(`http://127.0.0.1:${proxy.port}/probe/x`, 1);
    const sockets: net.Socket[] = [];
    t.after(async () => {
      for (const s of sockets) s.destroy();
      agent.destroy();
      await probe.stop();
    });
    await sleep(50); // the probe's connection is made and pooled before the flood

    // The flood: idle connections until the proxy has no descriptor left.
    const logsBefore = proxy.logs.length;
    let closedByProxy = 0;
    for (let i = 0; i < IDLE_CONNECTIONS; i++) {
      const s = net.connect(proxy.port, '127.0.0.1');
      s.on('error', () => {});
      s.on('close', () => closedByProxy++);
      sockets.push(s);
      await once(s, 'connect');
    }
    // At the limit, libuv accepts and closes what it cannot keep (its EMFILE trick): those
    // connections see a close; the rest are held open by the proxy.
    for (let i = 0; i < 200 && (footprint(pid).fds < LIMIT - 1 || closedByProxy === 0); i++) await sleep(50);
    t.diagnostic(
      `proxy fds ${footprint(pid).fds} of ${LIMIT}; ${closedByProxy} connections closed by the proxy`,
    );
    assert.ok(closedByProxy > 0, 'the proxy closed the connections it could not hold');

    // Existing connections: the pooled route answers; a route that needs a new upstream socket
    // gets a classified error (or 200 if a descriptor happened to be free).
    const pooled: FaultResult[] = [];
    for (const p of paths('ok', 'exhausted', 10)) pooled.push(await viaAgent(proxy.port, p, agent));
    const needsSocket: FaultResult[] = [];
    for (const p of paths('other', 'exhausted', 5)) needsSocket.push(await viaAgent(proxy.port, p, agent));
    assert.equal(proxy.child.exitCode, null, 'the proxy is still running');
    assert.deepEqual(await assertClassified(proxy, pooled), { ok: 10 });
    const tally = await assertClassified(proxy, needsSocket, {
      statuses: [502],
      codes: ['UPSTREAM_UNREACHABLE'],
    });
    t.diagnostic(`at the limit: ${JSON.stringify(tally)} on the route without a pooled connection`);
    const listenerErrors = proxy.logs.slice(logsBefore).filter((l) => l.msg === 'listener error').length;
    t.diagnostic(
      `${IDLE_CONNECTIONS} connections opened: ${closedByProxy} closed by the proxy at the limit; ${listenerErrors} "listener error" lines`,
    );

    // Free the descriptors: new connections are accepted again.
    for (const s of sockets) s.destroy();
    while (footprint(pid).fds > idle.fds + 10) await sleep(50);
    const fresh = await fireFaults(
      proxy.port,
      [...paths('ok', 'after', 10), ...paths('other', 'after', 10)],
      4,
    );
    assert.deepEqual(await assertClassified(proxy, fresh), { ok: 20 });
    await probe.stopAndAssert('descriptor exhaustion');
    agent.destroy();
    t.diagnostic(idleChange(idle, await assertBackToIdle(pid, idle, 'descriptor exhaustion', 20_000)));
  });
});
