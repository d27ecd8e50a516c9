/**
 * The swarm provider in the real proxy against a real dockerd in swarm mode (`docker swarm init`
 * on loopback; services on the host network, serving HTTP with busybox httpd): a service created
 * with labels is routed to its task, removed it is gone; a label typo is reported with the
 * service; dockerd stopped: the last good configuration keeps serving, the provider shows down in
 * /api/providers and the metrics, and it recovers by itself when dockerd is back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type Dockerd, startDockerd } from '../helpers/dockerd.ts';
import { freePort } from '../helpers/pebble.ts';
import { providersHead } from '../helpers/provider-config.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { untilApplied, waitForLogFrom } from '../helpers/wait.ts';

describe('Swarm provider (e2e, real dockerd in swarm mode)', () => {
  let d: Dockerd;
  let outside: Backend;
  let proxy: ProxyProcess;
  let web = 0;
  let admin = 0;

  before(async () => {
    [d, outside] = await Promise.all([
      startDockerd(),
      startBackend((req, res) => res.end(`outside ${req.url}`)),
    ]);
    // Swarm mode first: the provider fails (not a manager) until it is on.
    await d.swarmService('first', await freePort(), { 'traefik.enable': 'false' });
    proxy = await startProxy({
      config: `${providersHead('100ms')}  swarm:
    endpoint: "${d.endpoint}"
    refreshSeconds: 200ms
`,
    });
    web = proxy.ports['web'] ?? 0;
    admin = proxy.ports['traefik'] ?? 0;
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all([d?.close(), outside?.close()]);
  });

  const get = async (port: number, path: string): Promise<{ status: number; text: string }> => {
    const r = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: r.status, text: (await r.text()).trim() };
  };
  const until = (from: number, check: () => Promise<boolean>): Promise<void> =>
    untilApplied(proxy, from, check, 30_000);

  it('routes a service created with labels to its task, and forgets it once removed', async () => {
    const from = proxy.logs.length;
    const port = await freePort();
    await d.swarmService('shop', port, {
      'traefik.http.routers.shop.rule': 'PathPrefix(`/`)',
      'traefik.http.services.shop.loadbalancer.server.port': String(port),
    });
    await until(from, async () => (await get(web, '/')).status === 200);
    assert.deepEqual(await get(web, '/'), { status: 200, text: 'shop' });
    const routers = (await (await fetch(`http://127.0.0.1:${admin}/api/http/routers`)).json()) as {
      name: string;
    }[];
    assert.ok(
      routers.some((r) => r.name === 'shop@swarm'),
      JSON.stringify(routers.map((r) => r.name)),
    );
    const at = proxy.logs.length;
    await d.docker('service', 'rm', 'shop');
    await until(at, async () => (await get(web, '/')).status === 404);
  });

  it('reports a label typo with the service and the label', async () => {
    const from = proxy.logs.length;
    const port = await freePort();
    await d.swarmService('typo', port, {
      'traefik.http.routers.typo.rul': 'PathPrefix(`/typo`)',
      'traefik.http.services.typo.loadbalancer.server.port': String(port),
    });
    const line = await waitForLogFrom(
      proxy,
      from,
      (l) => typeof l.issue === 'string' && l.issue.includes('traefik.http.routers.typo.rul'),
      30_000,
    );
    assert.match(
      String(line.issue),
      /^swarm service typo label traefik\.http\.routers\.typo\.rul: .*unknown key `rul`/,
    );
    await d.docker('service', 'rm', 'typo');
  });

  it('keeps serving while dockerd is down, shows it down, and recovers by itself', async () => {
    let from = proxy.logs.length;
    // Its server lives outside the swarm, so it still answers while dockerd is down.
    await d.swarmService('pointer', await freePort(), {
      'traefik.http.routers.pointer.rule': 'PathPrefix(`/pointer`)',
      'traefik.http.services.pointer.loadbalancer.server.url': outside.url,
    });
    await until(from, async () => (await get(web, '/pointer')).status === 200);
    from = proxy.logs.length;
    await d.stop();
    await waitForLogFrom(
      proxy,
      from,
      (l) => l.msg === 'provider failed: its last configuration keeps serving' && l.provider === 'swarm',
      30_000,
    );
    const states = (await (await fetch(`http://127.0.0.1:${admin}/api/providers`)).json()) as {
      name: string;
      phase: string;
    }[];
    assert.equal(states.find((s) => s.name === 'swarm')?.phase, 'down');
    assert.deepEqual(
      await get(web, '/pointer'),
      { status: 200, text: 'outside /pointer' },
      'the last good configuration',
    );
    assert.match((await get(admin, '/metrics')).text, /^traffic_provider_up\{provider="swarm"\} 0$/m);
    from = proxy.logs.length;
    await d.start();
    await waitForLogFrom(
      proxy,
      from,
      (l) => l.msg === 'provider recovered' && l.provider === 'swarm',
      90_000,
    );
    assert.match((await get(admin, '/metrics')).text, /^traffic_provider_up\{provider="swarm"\} 1$/m);
  });
});
