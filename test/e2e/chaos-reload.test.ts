/**
 * Chaos: a configuration reload storm (edge-rules §4.2 rows 9–10). The dynamic file is rewritten
 * back to back, without waiting for one version to apply before the next: every write changes a
 * middleware, moves a route between two services (their pools made and retired), adds or drops
 * routers, and every fifth one is broken (a YAML syntax error or a reference to a service that
 * does not exist). Meanwhile a healthy route carries load and a WebSocket whose route never
 * changes exchanges messages. Afterwards: zero failed requests, the WebSocket still open, the last
 * version in force, and the proxy back to its idle descriptors and memory (a reload that leaks a
 * pool, a timer or a watcher would show here, 200 times over).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { type Backend, startBackend } from '../helpers/backends.ts';
import {
  assertBackToIdle,
  assertClassified,
  type Footprint,
  fireFaults,
  footprint,
  HealthyProbe,
  idleChange,
  paths,
} from '../helpers/chaos.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { startWsBackend, type WsBackend } from '../helpers/ws-backend.ts';

/** Writes in a burst (coalesced by the watcher), then writes that each wait for their outcome
 * (CHAOS_RELOADS=400 runs a longer storm). */
const BURST = 100;
const PACED = Number(process.env['CHAOS_RELOADS'] ?? 60);
const WRITES = BURST + PACED;

function version(g: number, a: Backend, b: Backend, ws: WsBackend): string {
  if (g % 10 === 5) return 'http:\n  routers:\n    broken: { rule: "Path(`/x`)", service: [\n'; // YAML syntax error
  const missing =
    g % 10 === 0 ? `    dangling-${g}: { rule: "PathPrefix(\`/dangling\`)", service: nowhere }\n` : '';
  const extra = Array.from(
    { length: g % 7 },
    (_, i) => `    extra-${g}-${i}: { rule: "PathPrefix(\`/extra/${g}/${i}\`)", service: s-a }\n`,
  ).join('');
  return `http:
  routers:
    ok: { rule: "PathPrefix(\`/ok/\`)", service: s-a }
    storm: { rule: "PathPrefix(\`/storm/\`)", service: ${g % 2 === 0 ? 's-a' : 's-b'}, middlewares: [stamp] }
    ws: { rule: "PathPrefix(\`/ws/\`)", service: s-ws }
${missing}${extra}  middlewares:
    stamp:
      headers:
        customResponseHeaders: { X-Version: "${g}" }
  services:
    s-a: { loadBalancer: { servers: [{ url: "${a.url}" }] } }
    s-b: { loadBalancer: { servers: [{ url: "${b.url}" }] } }
    s-ws: { loadBalancer: { servers: [{ url: "${ws.url}" }] } }
`;
}

/** Sends `text` and resolves with the echo. */
function echo(socket: WebSocket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const closed = (): void => reject(new Error('the WebSocket closed'));
    socket.once('message', (d: Buffer) => {
      socket.off('close', closed);
      resolve(d.toString());
    });
    socket.once('close', closed);
    socket.send(text);
  });
}

const OUTCOME = /^configuration (applied|error|rejected|warning)$/;

describe('chaos: a configuration reload storm', { concurrency: false }, () => {
  let a: Backend;
  let b: Backend;
  let wsBackend: WsBackend;
  let proxy: ProxyProcess;
  let pid: number;
  let idle: Footprint;

  before(async () => {
    a = await startBackend((_req, res) => res.end('a'));
    b = await startBackend((_req, res) => res.end('b'));
    wsBackend = await startWsBackend();
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
serversTransport:
  forwardingTimeouts: { idleConnTimeout: 1s }
providers:
  file: { filename: dynamic.yaml }
`,
      files: { 'dynamic.yaml': version(1, a, b, wsBackend) },
    });
    pid = proxy.child.pid!;
    // Warm-up: the routes once each, then the idle footprint.
    await fireFaults(proxy.port, [...paths('ok', 'warm', 50), ...paths('storm', 'warm', 50)], 4);
    const w = new WebSocket(`ws://127.0.0.1:${proxy.port}/ws/warm`);
    await new Promise((resolve) => w.once('open', resolve));
    await echo(w, 'warm');
    w.close();
    await new Promise((resolve) => w.once('close', resolve));
    for (let i = 0; i < 50 && footprint(pid).fds > 0; i++) {
      const open = await new Promise<number>((r) => a.server.getConnections((_e, n) => r(n)));
      if (open === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    idle = footprint(pid);
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all([a?.close(), b?.close(), wsBackend?.close()]);
  });

  it(`serves through ${WRITES} back-to-back writes (some broken), keeps a WebSocket, applies the last version, and goes back to idle`, async (t) => {
    const probe = new HealthyProbe(`http://127.0.0.1:${proxy.port}/ok/storm`, 4);
    const socket = new WebSocket(`ws://127.0.0.1:${proxy.port}/ws/through`);
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    const applied = proxy.logs.filter((l) => l.msg === 'configuration applied').length;
    let echoes = 0;
    for (let g = 2; g <= WRITES; g++) {
      const from = proxy.logs.length;
      proxy.writeFile('dynamic.yaml', version(g, a, b, wsBackend));
      if (g > BURST) {
        // One reload at a time: the next write only once this one was applied or refused.
        await proxy.waitForLog((l) => OUTCOME.test(String(l.msg)) && proxy.logs.indexOf(l) >= from, 10_000);
      }
      if (g % 20 === 0) {
        assert.equal(await echo(socket, `m${g}`), `m${g}`);
        echoes++;
      }
    }
    // The last write (WRITES, valid) ends the storm: wait until it is the version in force.
    const last = WRITES;
    await proxy.waitForLog(
      (l) =>
        l.msg === 'configuration applied' &&
        proxy.logs.filter((x) => x.msg === 'configuration applied').indexOf(l) >= applied,
      10_000,
    );
    for (let i = 0; i < 100; i++) {
      const res = await fetch(`http://127.0.0.1:${proxy.port}/storm/final`);
      await res.text();
      if (res.headers.get('x-version') === String(last)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const final = await fetch(`http://127.0.0.1:${proxy.port}/storm/final`);
    assert.equal(final.headers.get('x-version'), String(last));
    assert.equal(await final.text(), last % 2 === 0 ? 'a' : 'b');
    const during = await fireFaults(proxy.port, paths('storm', 'after', 20), 4);
    assert.deepEqual(await assertClassified(proxy, during), { ok: 20 });
    const stats = await probe.stopAndAssert('reload storm');
    assert.equal(await echo(socket, 'after the storm'), 'after the storm', 'the WebSocket lived through it');
    socket.close(1000);
    await new Promise((resolve) => socket.once('close', resolve));

    const appliedNow = proxy.logs.filter((l) => l.msg === 'configuration applied').length - applied;
    const complaints = proxy.logs.filter((l) =>
      /^configuration (error|rejected|warning)$/.test(String(l.msg)),
    ).length;
    assert.ok(complaints > 0, 'the broken versions were reported');
    const otherErrors = proxy.logs.filter(
      (l) => (l.level === 'error' || l.level === 'raw') && !/^configuration /.test(String(l.msg)),
    );
    assert.deepEqual(otherErrors, [], 'no other error while reloading');
    t.diagnostic(
      `${WRITES - 1} writes → ${appliedNow} generations applied (the watcher coalesces bursts), ${complaints} configuration complaints; ` +
        `${stats.ok} healthy requests and ${echoes} WebSocket echoes during the storm`,
    );
    t.diagnostic(idleChange(idle, await assertBackToIdle(pid, idle, 'reload storm', 15_000)));
  });
});
