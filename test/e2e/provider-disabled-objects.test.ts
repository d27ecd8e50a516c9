/**
 * Objects that validation disables, reported by providers other than the file provider, in the
 * admin API of the real proxy: the HTTP provider (a YAML document fetched from an endpoint) and
 * the Consul KV provider (keys, read as labels are) each give a router of every kind naming a
 * service that does not exist, Consul a TCP router whose priority is not a number, the HTTP
 * provider TCP and UDP services naming a service that does not exist and a TCP middleware with a
 * bad source range. Traefik's
 * runtime configuration keeps every such object with status `disabled` and its `error` list
 * (pkg/config/runtime runtime.go NewConfig, AddError; pkg/api handler_tcp.go, handler_udp.go,
 * handler_overview.go): each shows in its own kind's section, its status filter, the overview's
 * error counts and /api/rawdata, never as an object of another kind.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type FakeConsul, startFakeConsul } from '../helpers/fake-consul.ts';
import { providersHead } from '../helpers/provider-config.ts';
import { type LogLine, type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { waitForLogFrom } from '../helpers/wait.ts';

interface ObjectJson {
  readonly name: string;
  readonly provider?: string;
  readonly status: string;
  readonly error?: readonly string[];
}

const ENTRY_POINTS = `entryPoints:
  web:
    address: "127.0.0.1:0"
  tcp:
    address: "127.0.0.1:0"
  dgram:
    address: "127.0.0.1:0/udp"
  traefik:
    address: "127.0.0.1:0"
`;

const ENDPOINT_BODY = `http:
  routers:
    broken: { rule: "PathPrefix(\`/b\`)", service: nowhere }
tcp:
  routers:
    broken: { entryPoints: [tcp], rule: "HostSNI(\`*\`)", service: nowhere }
  services:
    wrr: { weighted: { services: [{ name: nowhere }] } }
  middlewares:
    bad: { ipAllowList: { sourceRange: ["not-an-ip"] } }
udp:
  routers:
    broken: { entryPoints: [dgram], service: nowhere }
  services:
    wrr: { weighted: { services: [{ name: nowhere }] } }
`;

describe('disabled objects of the HTTP and Consul KV providers in the admin API (e2e)', () => {
  let endpoint: Server;
  let consul: FakeConsul;
  let proxy: ProxyProcess;
  let admin = 0;

  before(async () => {
    endpoint = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/yaml' }).end(ENDPOINT_BODY);
    });
    await new Promise<void>((r) => endpoint.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/traefik.yaml`;
    consul = await startFakeConsul();
    const keys: Record<string, string> = {
      'traefik/http/routers/kv/rule': 'PathPrefix(`/kv`)',
      'traefik/http/routers/kv/service': 'nowhere',
      'traefik/tcp/routers/kv/entryPoints/0': 'tcp',
      'traefik/tcp/routers/kv/rule': 'HostSNI(`*`)',
      'traefik/tcp/routers/kv/service': 'nowhere',
      'traefik/tcp/routers/typo/entryPoints/0': 'tcp',
      'traefik/tcp/routers/typo/rule': 'HostSNI(`*`)',
      'traefik/tcp/routers/typo/service': 'nowhere',
      'traefik/tcp/routers/typo/priority': 'high',
      'traefik/udp/routers/kv/entryPoints/0': 'dgram',
      'traefik/udp/routers/kv/service': 'nowhere',
    };
    for (const [k, v] of Object.entries(keys)) consul.put(k, v);
    proxy = await startProxy({
      config: `${providersHead('100ms', ENTRY_POINTS)}  http:
    endpoint: "${url}"
    pollInterval: 100ms
  consul:
    endpoints: ["${consul.endpoint}"]
`,
    });
    admin = proxy.ports['traefik'] ?? 0;
    // Both providers' configurations applied: an update applied after both reported their errors.
    const reported = (p: string) =>
      proxy.logs.some((x) => x.msg === 'configuration error' && x.provider === p);
    for (let from = 0; ; ) {
      const l = await waitForLogFrom(proxy, from, (x) => x.msg === 'configuration applied');
      from = proxy.logs.indexOf(l) + 1;
      if (reported('http') && reported('consul')) break;
    }
  });

  after(async () => {
    await proxy?.stop();
    await new Promise<void>((r) => endpoint?.close(() => r()));
    await consul?.close();
  });

  async function api<T>(path: string): Promise<T> {
    const r = await fetch(`http://127.0.0.1:${admin}/api/${path}`);
    assert.equal(r.status, 200, path);
    return (await r.json()) as T;
  }
  // The API's own routers (`api@internal`…) are not this test's.
  const own = (list: readonly ObjectJson[]) => list.filter((o) => !o.name.endsWith('@internal'));
  const view = (list: readonly ObjectJson[]) => own(list).map((o) => [o.name, o.status, o.error ?? []]);

  it('lists each disabled router in its own section, with Traefik’s error', async () => {
    assert.deepEqual(view(await api<ObjectJson[]>('http/routers')), [
      ['broken@http', 'disabled', ['the service "nowhere@http" does not exist']],
      ['kv@consul', 'disabled', ['the service "nowhere@consul" does not exist']],
    ]);
    const tcp = await api<ObjectJson[]>('tcp/routers');
    assert.deepEqual(
      tcp.map((o) => [o.name, o.status]),
      [
        ['broken@http', 'disabled'],
        ['kv@consul', 'disabled'],
        ['typo@consul', 'disabled'],
      ],
    );
    assert.deepEqual(tcp[0]!.error, ['the service "nowhere@http" does not exist']);
    assert.deepEqual(tcp[1]!.error, ['the service "nowhere@consul" does not exist']);
    assert.ok((tcp[2]!.error ?? []).length > 0, 'the priority that is not a number is an error');
    assert.deepEqual(view(await api<ObjectJson[]>('udp/routers')), [
      ['broken@http', 'disabled', ['the UDP service "nowhere@http" does not exist']],
      ['kv@consul', 'disabled', ['the UDP service "nowhere@consul" does not exist']],
    ]);
    const one = await api<ObjectJson>('tcp/routers/broken@http');
    assert.equal(one.status, 'disabled');
  });

  it('lists the disabled TCP and UDP services and the TCP middleware of the HTTP provider', async () => {
    // No router reaches them: Traefik never builds them, so they are `enabled` with no `error`
    // (addTCPHandlers, buildTCPHandler; api-build-errors.test.ts), but listed in their own section.
    assert.deepEqual(view(await api<ObjectJson[]>('tcp/services')), [['wrr@http', 'enabled', []]]);
    assert.deepEqual(view(await api<ObjectJson[]>('udp/services')), [['wrr@http', 'enabled', []]]);
    // A bad source range is found by ipallowlist.New, when a router builds it: unused, `enabled`.
    assert.deepEqual(view(await api<ObjectJson[]>('tcp/middlewares')), [['bad@http', 'enabled', []]]);
    // Not shown as HTTP objects.
    assert.deepEqual(own(await api<ObjectJson[]>('http/services')), []);
    assert.deepEqual(own(await api<ObjectJson[]>('http/middlewares')), []);
  });

  it('filters them by status, counts them in the overview and shows them in rawdata', async () => {
    const names = (list: readonly ObjectJson[]) => list.map((o) => o.name);
    assert.deepEqual(names(await api<ObjectJson[]>('tcp/routers?status=disabled')), [
      'broken@http',
      'kv@consul',
      'typo@consul',
    ]);
    assert.deepEqual(names(await api<ObjectJson[]>('tcp/routers?status=enabled')), []);
    assert.deepEqual(names(await api<ObjectJson[]>('udp/routers?status=disabled')), [
      'broken@http',
      'kv@consul',
    ]);
    const o = await api<Record<string, Record<string, unknown>>>('overview');
    const http = o['http']!['routers'] as { total: number; warnings: number; errors: number };
    assert.deepEqual([http.warnings, http.errors], [0, 2]);
    assert.deepEqual(o['tcp']!['routers'], { total: 3, warnings: 0, errors: 3 });
    assert.deepEqual(o['udp']!['routers'], { total: 2, warnings: 0, errors: 2 });
    assert.deepEqual(o['tcp']!['services'], { total: 1, warnings: 0, errors: 0 });
    assert.deepEqual(o['tcp']!['middlewares'], { total: 1, warnings: 0, errors: 0 });
    assert.deepEqual(o['udp']!['services'], { total: 1, warnings: 0, errors: 0 });
    const raw = await api<Record<string, Record<string, { status?: string; error?: string[] }>>>('rawdata');
    const ownKeys = (o: object | undefined) => Object.keys(o ?? {}).filter((k) => !k.endsWith('@internal'));
    assert.deepEqual(ownKeys(raw['routers']).sort(), ['broken@http', 'kv@consul']);
    assert.deepEqual(Object.keys(raw['tcpRouters'] ?? {}).sort(), [
      'broken@http',
      'kv@consul',
      'typo@consul',
    ]);
    assert.deepEqual(Object.keys(raw['udpRouters'] ?? {}).sort(), ['broken@http', 'kv@consul']);
    assert.deepEqual(ownKeys(raw['tcpServices']), ['wrr@http']);
    assert.deepEqual(ownKeys(raw['tcpMiddlewares']), ['bad@http']);
    assert.deepEqual(ownKeys(raw['udpServices']), ['wrr@http']);
    for (const key of ['routers', 'tcpRouters', 'udpRouters'])
      for (const name of ownKeys(raw[key])) {
        const v = raw[key]![name]!;
        assert.equal(v.status, 'disabled', `${key} ${name}`);
        assert.ok((v.error ?? []).length > 0, `${key} ${name} error`);
      }
    // What no router reaches is never built by Traefik: enabled, no error.
    for (const key of ['tcpServices', 'tcpMiddlewares', 'udpServices'])
      for (const name of ownKeys(raw[key])) {
        const v = raw[key]![name]!;
        assert.equal(v.status, 'enabled', `${key} ${name}`);
        assert.equal(v.error, undefined, `${key} ${name} error`);
      }
  });

  it('counts them in the metrics, each in the section of its kind', async () => {
    const text = await (await fetch(`http://127.0.0.1:${admin}/metrics`)).text();
    const count = (section: string) =>
      new RegExp(
        `^traffic_config_disabled_objects\\{section="${section.replace('.', '\\.')}"\\} (\\d+)$`,
        'm',
      ).exec(text)?.[1];
    assert.deepEqual(
      ['routers', 'tcp.routers', 'tcp.services', 'tcp.middlewares', 'udp.routers', 'udp.services'].map(count),
      ['2', '3', '1', '1', '2', '1'],
    );
  });
});

/**
 * The file provider's routers naming objects of the HTTP provider: one disabled by its own errors,
 * one that does not exist. Each provider's checks know only its own objects; the build of the
 * merged configuration finds these. Traefik's runtime configuration holds every provider's
 * objects, so its router errors are those of a reference within one provider: the disabled
 * service's own errors (BuildHTTP, tcp/udp BuildTCP/BuildUDP), or `the service "x@p" does not
 * exist`.
 */
describe("routers naming another provider's disabled or missing objects (e2e)", () => {
  let endpoint: Server;
  let proxy: ProxyProcess;
  let admin = 0;

  before(async () => {
    endpoint = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/yaml' }).end(`http:
  services:
    wrr: { weighted: { services: [{ name: nowhere }] } }
tcp:
  services:
    wrr: { weighted: { services: [{ name: nowhere }] } }
udp:
  services:
    wrr: { weighted: { services: [{ name: nowhere }] } }
`);
    });
    await new Promise<void>((r) => endpoint.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/traefik.yaml`;
    proxy = await startProxy({
      config: `${providersHead('100ms', ENTRY_POINTS)}  http:
    endpoint: "${url}"
    pollInterval: 100ms
  file:
    filename: dynamic.yaml
`,
      files: {
        'dynamic.yaml': `http:
  routers:
    off: { rule: "Path(\`/off\`)", service: wrr@http }
    ghost: { rule: "Path(\`/ghost\`)", service: ghost@http }
tcp:
  routers:
    off: { entryPoints: [tcp], rule: "HostSNI(\`*\`)", service: wrr@http }
    ghost: { entryPoints: [tcp], rule: "HostSNI(\`*\`)", service: ghost@http }
udp:
  routers:
    off: { entryPoints: [dgram], service: wrr@http }
    ghost: { entryPoints: [dgram], service: ghost@http }
`,
      },
    });
    admin = proxy.ports['traefik'] ?? 0;
    const reported = (p: string) =>
      proxy.logs.some((x) => x.msg === 'configuration error' && x.provider === p);
    for (let from = 0; ; ) {
      const l = await waitForLogFrom(proxy, from, (x) => x.msg === 'configuration applied');
      from = proxy.logs.indexOf(l) + 1;
      if (reported('http')) break;
    }
  });

  after(async () => {
    await proxy?.stop();
    await new Promise<void>((r) => endpoint?.close(() => r()));
  });

  const list = async (path: string) => {
    const r = await fetch(`http://127.0.0.1:${admin}/api/${path}`);
    const all = (await r.json()) as ObjectJson[];
    return all.filter((o) => o.provider === 'file').map((o) => [o.name, o.status, o.error ?? []]);
  };

  it("shows each router disabled with Traefik's error", async () => {
    const off = ['the service "nowhere@http" does not exist'];
    assert.deepEqual(await list('http/routers'), [
      ['ghost@file', 'disabled', ['the service "ghost@http" does not exist']],
      ['off@file', 'disabled', off],
    ]);
    assert.deepEqual(await list('tcp/routers'), [
      ['ghost@file', 'disabled', ['the service "ghost@http" does not exist']],
      ['off@file', 'disabled', off],
    ]);
    assert.deepEqual(await list('udp/routers'), [
      ['ghost@file', 'disabled', ['the UDP service "ghost@http" does not exist']],
      ['off@file', 'disabled', ['the UDP service "nowhere@http" does not exist']],
    ]);
  });

  // Traefik's TCP and UDP managers log the router they leave out with `logger.Error()`
  // (pkg/server/router/tcp/manager.go addTCPHandlers, "the service does not exist" among them).
  it('logs each TCP and UDP router left out at ERROR, located in its file', async () => {
    const about = (l: LogLine): string => String(l['issue'] ?? '');
    for (const kind of ['tcp', 'udp'])
      for (const name of ['ghost', 'off'])
        await proxy.waitForLog((l) => about(l).includes(`${kind}.routers.${name}@file.service: `));
    const lines = proxy.logs.filter((l) => /^\S*dynamic\.yaml:\d+:\d+: (tcp|udp)\.routers\./.test(about(l)));
    assert.equal(lines.length, 4, JSON.stringify(lines));
    // With Traefik's words as the line's `error` where the service does not exist at all
    // (BuildTCP, BuildUDP), as its managers log `logger.Error().Err(err)`.
    const ghost = (kind: string) =>
      lines.find((l) => about(l).includes(`${kind}.routers.ghost@file.service: `));
    assert.equal(ghost('tcp')?.['error'], 'the service "ghost@http" does not exist');
    assert.equal(ghost('udp')?.['error'], 'the UDP service "ghost@http" does not exist');
    assert.deepEqual(
      lines.filter(
        (l) => l.level !== 'error' || l.msg !== 'configuration error' || /warning: /.test(about(l)),
      ),
      [],
    );
  });

  it('counts them as errors in the overview and finds them by the disabled filter', async () => {
    const o = (await (await fetch(`http://127.0.0.1:${admin}/api/overview`)).json()) as Record<
      string,
      Record<string, { total: number; warnings: number; errors: number }>
    >;
    assert.deepEqual(o['tcp']!['routers'], { total: 2, warnings: 0, errors: 2 });
    assert.deepEqual(o['udp']!['routers'], { total: 2, warnings: 0, errors: 2 });
    assert.equal(o['http']!['routers']!.errors, 2);
    for (const kind of ['http', 'tcp', 'udp'])
      assert.deepEqual(
        (await list(`${kind}/routers?status=disabled`)).map((x) => x[0]),
        ['ghost@file', 'off@file'],
        kind,
      );
  });
});
