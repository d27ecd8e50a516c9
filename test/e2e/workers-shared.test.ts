import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { waitForLogFrom } from '../helpers/wait.ts';
import { getMany, scrape, serving } from '../helpers/workers.ts';

/*
 * `workers: 2`: what the control plane keeps for the whole proxy beyond any one worker's life.
 */

const STARTUP_MS = 60_000;

describe('workers: a dead worker’s counters stay in /metrics', () => {
  let backend: Backend;
  let proxy: ProxyProcess;

  before(async () => {
    backend = await startBackend((_req, res) => res.end('ok'));
    proxy = await startProxy({
      config: `workers: 2
log: { level: INFO, format: json }
entryPoints:
  web: { address: "127.0.0.1:0" }
  traefik: { address: "127.0.0.1:0" }
api: { insecure: true }
metrics:
  prometheus: { entryPoint: traefik, addEntryPointsLabels: true }
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", entryPoints: [web], service: be }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`,
      entryPoints: 2,
      timeoutMs: STARTUP_MS,
    });
    await proxy.waitForLog(serving(1), STARTUP_MS);
    await proxy.waitForLog(serving(2), STARTUP_MS);
  });

  after(async () => {
    if (proxy !== undefined && proxy.child.exitCode === null) await proxy.stop('SIGKILL');
    await backend?.close();
  });

  it('keeps a killed worker’s last counts: the summed counter does not go backwards', async () => {
    const replies = await getMany(proxy.ports['web']!, 60);
    assert.deepEqual(
      replies.map((r) => r.status),
      replies.map(() => 200),
    );
    const seen = await scrape(proxy.ports['traefik']!);
    assert.equal(seen.webTotal, 60);
    const victim = seen.pids.get('1')!;
    assert.ok(seen.perWorker.get('1')! > 0, 'worker 1 served some of them');
    const from = proxy.logs.length;
    process.kill(victim, 'SIGKILL');
    await waitForLogFrom(proxy, from, serving(1, victim), STARTUP_MS);
    const after = await scrape(proxy.ports['traefik']!);
    assert.notEqual(after.pids.get('1'), victim);
    assert.equal(after.webTotal, 60, 'the dead worker’s requests are still counted');
    // And the replacement's own requests add to them.
    await getMany(proxy.ports['web']!, 20);
    assert.equal((await scrape(proxy.ports['traefik']!)).webTotal, 80);
  });
});
