/**
 * Traefik's KV provider integration tests (v3) run against our proxy: integration/etcd_test.go,
 * redis_test.go, consul_test.go and zk_test.go. Each puts the same keys in its store, starts the
 * proxy on integration/fixtures/<kv>/simple.toml (adapted by ./fixture-prov.ts: the API kept on
 * the `traefik` entry point) and compares /api/rawdata with integration/testdata/rawdata-<kv>.json.
 *
 * The stores are real where Debian has them: etcd (etcd-server), redis-server, ZooKeeper
 * (zookeeperd). Debian has no Consul: consul_test.go runs against test/helpers/fake-consul.ts, the
 * KV HTTP API (blocking queries) as Consul answers it.
 *
 * Expected data: ./fixtures/rawdata-kv.json is Traefik's v3 rawdata-consul.json (commit
 * 1b318274 of traefik/traefik); the v3 tests of the four stores put the same keys, and their files
 * differ only in the provider's name, which the test swaps in (the stored rawdata-etcd.json,
 * -redis.json and -zk.json are older: v2's priorities, no `observability`, no `strategy`).
 *
 * The comparison is field by field, after the normalization of what docs/migrating-from-traefik.md
 * documents as our API's own shape ("The API's objects"): a service's or middleware's
 * configuration is Traefik's inline one of our runtime objects (under its kind's key), a router's
 * is read from the `http` section of /api/rawdata, `issues` and our pool/health fields are left
 * out, a router's `service` is read as written (ours shows it qualified). Every other difference
 * is listed by the test.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type Etcd, startEtcd } from '../../helpers/etcd.ts';
import { type FakeConsul, startFakeConsul } from '../../helpers/fake-consul.ts';
import type { ProxyProcess } from '../../helpers/proxy-process.ts';
import { type Redis, startRedis } from '../../helpers/redis.ts';
import { startZooKeeper, type ZooKeeper } from '../../helpers/zookeeper.ts';
import { startWhoami } from './fixture.ts';
import { get, startFixtureWithApi, until } from './fixture-prov.ts';

const open: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const close of open.reverse()) await close();
});
function track(p: ProxyProcess): ProxyProcess {
  open.push(() => p.stop());
  return p;
}

/** The keys every TestSimpleConfiguration puts (v3). */
const DATA: Readonly<Record<string, string>> = {
  'traefik/http/routers/Router0/entryPoints/0': 'web',
  'traefik/http/routers/Router0/middlewares/0': 'compressor',
  'traefik/http/routers/Router0/middlewares/1': 'striper',
  'traefik/http/routers/Router0/service': 'simplesvc',
  'traefik/http/routers/Router0/rule': 'Host(`kv1.localhost`)',
  'traefik/http/routers/Router0/priority': '42',
  'traefik/http/routers/Router0/tls': '',

  'traefik/http/routers/Router1/rule': 'Host(`kv2.localhost`)',
  'traefik/http/routers/Router1/priority': '42',
  'traefik/http/routers/Router1/tls/domains/0/main': 'aaa.localhost',
  'traefik/http/routers/Router1/tls/domains/0/sans/0': 'aaa.aaa.localhost',
  'traefik/http/routers/Router1/tls/domains/0/sans/1': 'bbb.aaa.localhost',
  'traefik/http/routers/Router1/tls/domains/1/main': 'bbb.localhost',
  'traefik/http/routers/Router1/tls/domains/1/sans/0': 'aaa.bbb.localhost',
  'traefik/http/routers/Router1/tls/domains/1/sans/1': 'bbb.bbb.localhost',
  'traefik/http/routers/Router1/entryPoints/0': 'web',
  'traefik/http/routers/Router1/service': 'simplesvc',

  'traefik/http/services/simplesvc/loadBalancer/servers/0/url': 'http://10.0.1.1:8888',
  'traefik/http/services/simplesvc/loadBalancer/servers/1/url': 'http://10.0.1.1:8889',

  'traefik/http/services/srvcA/loadBalancer/servers/0/url': 'http://10.0.1.2:8888',
  'traefik/http/services/srvcA/loadBalancer/servers/1/url': 'http://10.0.1.2:8889',

  'traefik/http/services/srvcB/loadBalancer/servers/0/url': 'http://10.0.1.3:8888',
  'traefik/http/services/srvcB/loadBalancer/servers/1/url': 'http://10.0.1.3:8889',

  'traefik/http/services/mirror/mirroring/service': 'simplesvc',
  'traefik/http/services/mirror/mirroring/mirrors/0/name': 'srvcA',
  'traefik/http/services/mirror/mirroring/mirrors/0/percent': '42',
  'traefik/http/services/mirror/mirroring/mirrors/1/name': 'srvcB',
  'traefik/http/services/mirror/mirroring/mirrors/1/percent': '42',

  'traefik/http/services/Service03/weighted/services/0/name': 'srvcA',
  'traefik/http/services/Service03/weighted/services/0/weight': '42',
  'traefik/http/services/Service03/weighted/services/1/name': 'srvcB',
  'traefik/http/services/Service03/weighted/services/1/weight': '42',

  'traefik/http/middlewares/compressor/compress': '',
  'traefik/http/middlewares/striper/stripPrefix/prefixes/0': 'foo',
  'traefik/http/middlewares/striper/stripPrefix/prefixes/1': 'bar',
};

/** integration/fixtures/<kv>/simple.toml (v3), the store's section given. */
function fixture(provider: string): string {
  return `[global]
  checkNewVersion = false
  sendAnonymousUsage = false

[log]
  level = "DEBUG"
  noColor = true

[entryPoints.web]
  address = ":8000"

[api]
  insecure = true

${provider}`;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

const KINDS = ['routers', 'middlewares', 'services'] as const;
/** Fields of our runtime objects that are Traefik's too (admin-api.md), kept beside the configuration. */
const RUNTIME_FIELDS = ['observability', 'status', 'using', 'usedBy', 'serverStatus'] as const;

/**
 * Our /api/rawdata in Traefik's shape, as far as docs/migrating-from-traefik.md says ours differs
 * on purpose: each object is its configuration (the `http` section; our `kind`/`type` tag left
 * out) with the runtime fields Traefik shares; a router's middlewares as its runtime view names
 * them (qualified, as Traefik's), its service as written.
 */
function traefikShape(raw: Obj): Obj {
  const http = (raw['http'] ?? {}) as Obj;
  const out: Obj = {};
  for (const kind of KINDS) {
    const objs: Obj = {};
    const runtime = (raw[kind] ?? {}) as Obj;
    const config = (http[kind] ?? {}) as Obj;
    for (const name of new Set([...Object.keys(runtime), ...Object.keys(config)])) {
      const rt = (runtime[name] ?? {}) as Obj;
      // An internal object has no configuration of ours: its runtime view carries Traefik's fields.
      const internal = name.endsWith('@internal') && config[name] === undefined;
      let o: Obj;
      if (kind !== 'routers') {
        // Services and middlewares carry Traefik's inline configuration under their kind's key
        // (admin/traefik-config.ts); an internal service has none, as Traefik's.
        // Traefik's `type` is the kind's key lowercased (`loadbalancer`): the key it names.
        const type = rt['type'];
        const key = Object.keys(rt).find((k) => k !== 'type' && k.toLowerCase() === type);
        o = key !== undefined ? { [key]: rt[key] ?? null } : {};
      } else {
        o = { ...(((internal ? internalConfig(rt) : config[name]) ?? {}) as Obj) };
        delete o['kind'];
        // Our `http` section writes a router's `tls.domains` always; Go's omitempty leaves an
        // empty one out (the router's view does too).
        const tls = o['tls'];
        if (typeof tls === 'object' && tls !== null && !Array.isArray(tls)) {
          const { domains, ...rest } = tls;
          o['tls'] = Array.isArray(domains) && domains.length === 0 ? rest : tls;
        }
      }
      // A router's middlewares as its view names them (qualified, as Traefik's), absent when it
      // has none (omitempty), as its view.
      if (kind === 'routers') {
        delete o['middlewares'];
        if (rt['middlewares'] !== undefined) o['middlewares'] = rt['middlewares'];
      }
      for (const f of RUNTIME_FIELDS) if (rt[f] !== undefined) o[f] = rt[f];
      objs[name] = o;
    }
    out[kind] = objs;
  }
  return out;
}

/** An internal router's configuration in Traefik's shape, from its view (our admin API's). */
function internalConfig(rt: Obj): Obj {
  const o: Obj = {};
  for (const f of ['entryPoints', 'service', 'rule', 'ruleSyntax', 'priority'])
    if (rt[f] !== undefined) o[f] = rt[f];
  return o;
}

/** Every leaf where `got` differs from `want`: `path: want → got` (absent shown as such). */
function differences(want: Json | undefined, got: Json | undefined, path = ''): string[] {
  const isObj = (v: Json | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObj(want) && isObj(got)) {
    const keys = [...new Set([...Object.keys(want), ...Object.keys(got)])].sort();
    return keys.flatMap((k) => differences(want[k], got[k], `${path}.${k}`));
  }
  if (Array.isArray(want) && Array.isArray(got) && want.length === got.length)
    return want.flatMap((w, i) => differences(w, got[i], `${path}[${i}]`));
  if (JSON.stringify(want) === JSON.stringify(got)) return [];
  const show = (v: Json | undefined) => (v === undefined ? 'absent' : JSON.stringify(v));
  return [`${path.slice(1)}: ${show(want)} → ${show(got)}`];
}

function expected(provider: string): Obj {
  const text = readFileSync(new URL('./fixtures/rawdata-kv.json', import.meta.url), 'utf8');
  return JSON.parse(text.replaceAll('@consul', `@${provider}`)) as Obj;
}

/** Waits for the four objects Go waits for, then the differences from Traefik's file. */
async function rawdataDifferences(p: ProxyProcess, provider: string): Promise<string[]> {
  const names = ['striper', 'compressor', 'srvcA', 'srvcB'].map((n) => `"${n}@${provider}":`);
  const raw = await until(
    () => get(p.ports.traefik!, '/api/rawdata'),
    (r) => names.every((n) => r.text.includes(n)),
    150,
  );
  // Go fails here when one is missing; the comparison below names it.
  return differences(expected(provider), traefikShape(JSON.parse(raw.text) as Obj));
}

interface Store {
  readonly provider: string;
  readonly section: string;
  put(key: string, value: string): Promise<void>;
}

const stores: Record<string, Store> = {};
let etcd: Etcd;
let redis: Redis;
let consul: FakeConsul;
let zk: ZooKeeper;

before(async () => {
  [etcd, redis, consul, zk] = await Promise.all([
    startEtcd(),
    startRedis(),
    startFakeConsul(),
    startZooKeeper(),
  ]);
  open.push(() => Promise.all([etcd.close(), redis.close(), consul.close(), zk.close()]));
  stores['etcd'] = {
    provider: 'etcd',
    section: `[providers.etcd]\n  rootKey = "traefik"\n  endpoints = ["${etcd.endpoint}"]\n`,
    put: (k, v) => etcd.put(k, v),
  };
  stores['redis'] = {
    provider: 'redis',
    section: `[providers.redis]\n  rootKey = "traefik"\n  endpoints = ["${redis.endpoint}"]\n`,
    put: async (k, v) => {
      await redis.command('SET', k, v);
    },
  };
  stores['consul'] = {
    provider: 'consul',
    section: `[providers.consul]\n  rootKey = "traefik"\n  endpoints = ["${consul.endpoint}"]\n`,
    put: async (k, v) => consul.put(k, v),
  };
  stores['zookeeper'] = {
    provider: 'zookeeper',
    section: `[providers.zooKeeper]\n  rootKey = "traefik"\n  endpoints = ["${zk.endpoint}"]\n`,
    put: (k, v) => zk.put(k, v),
  };
});

/**
 * The differences from Traefik's rawdata found by these tests (docs/migrating-from-traefik.md,
 * "Traefik's integration tests", Differences left), each a pattern over `differences` lines.
 */
const KNOWN: readonly [RegExp, string][] = [];

for (const [file, store] of [
  ['etcd_test.go', 'etcd'],
  ['redis_test.go', 'redis'],
  ['consul_test.go', 'consul'],
  ['zk_test.go', 'zookeeper'],
] as const) {
  describe(`traefik integration/${file}`, () => {
    let diff: string[] | undefined;
    /** The store filled, the proxy started: the differences (once per store). */
    const differencesOnce = async (): Promise<string[]> => {
      if (diff !== undefined) return diff;
      const s = stores[store]!;
      for (const [k, v] of Object.entries(DATA)) await s.put(k, v);
      const p = track(await startFixtureWithApi(fixture(s.section)));
      diff = await rawdataDifferences(p, s.provider);
      await p.stop();
      return diff;
    };
    it("TestSimpleConfiguration: /api/rawdata as Traefik's, field by field", async () => {
      assert.deepEqual(await differencesOnce(), []);
    });
    it("TestSimpleConfiguration: no difference from Traefik's rawdata beyond the known ones", {}, async () => {
      const left = (await differencesOnce()).filter((d) => !KNOWN.some(([re]) => re.test(d)));
      assert.deepEqual(left, []);
    });
  });
}

describe('traefik integration/consul_test.go', () => {
  // Traefik issue #8092: deleting a router's tree, then the root key, removes their routes.
  it('TestDeleteRootKey: routers go with their deleted keys, then with the root key', async () => {
    consul.del('traefik', true); // Go's TearDownTest of the previous test
    const w = await startWhoami('whoami');
    open.push(() => w.close());
    const data: Record<string, string> = {
      'traefik/http/routers/Router0/entryPoints/0': 'web',
      'traefik/http/routers/Router0/rule': 'Host(`kv1.localhost`)',
      'traefik/http/routers/Router0/service': 'simplesvc0',
      'traefik/http/routers/Router1/entryPoints/0': 'web',
      'traefik/http/routers/Router1/rule': 'Host(`kv2.localhost`)',
      'traefik/http/routers/Router1/service': 'simplesvc1',
      'traefik/http/services/simplesvc0/loadBalancer/servers/0/url': w.url,
      'traefik/http/services/simplesvc1/loadBalancer/servers/0/url': w.url,
    };
    for (const [k, v] of Object.entries(data)) consul.put(k, v);
    const p = track(await startFixtureWithApi(fixture(stores['consul']!.section)));
    const names = ['Router0', 'Router1', 'simplesvc0', 'simplesvc1'].map((n) => `"${n}@consul":`);
    const raw = await until(
      () => get(p.ports.traefik!, '/api/rawdata'),
      (r) => names.every((n) => r.text.includes(n)),
      150,
    );
    for (const n of names) assert.ok(raw.text.includes(n), `${n} in ${raw.text}`);
    /** Go's assertWhoami: the status, waited for up to 15 s. */
    const assertWhoami = async (host: string, status: number) => {
      const r = await until(
        () => get(p.ports.web!, '/', host),
        (r) => r.status === status,
        150,
      );
      assert.equal(r.status, status, `${host}: ${r.text}`);
    };
    await assertWhoami('kv1.localhost', 200);
    await assertWhoami('kv2.localhost', 200);
    consul.del('traefik/http/routers/Router1', true);
    await assertWhoami('kv1.localhost', 200);
    await assertWhoami('kv2.localhost', 404);
    consul.del('traefik', true);
    await assertWhoami('kv1.localhost', 404);
    await assertWhoami('kv2.localhost', 404);
  });
});
