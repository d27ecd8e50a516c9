/**
 * The four KV engines the KV provider e2e tests read (etcd, Redis, the fake Consul KV API,
 * ZooKeeper) with a backend behind them, and the proxy configuration that reads all four.
 * Plain or made strict (TLS, credentials) by the options each engine's helper takes.
 */
import { type Backend, startBackend } from './backends.ts';
import { type Etcd, type EtcdOptions, startEtcd } from './etcd.ts';
import { type FakeConsul, type FakeConsulOptions, startFakeConsul } from './fake-consul.ts';
import { providersHead } from './provider-config.ts';
import { type Redis, type RedisOptions, startRedis } from './redis.ts';
import { startZooKeeper, type ZooKeeper, type ZooKeeperOptions } from './zookeeper.ts';

/** A provider as /api/providers shows it. */
export interface ProviderJson {
  readonly name: string;
  readonly phase: string;
  readonly failures: number;
  readonly lastError: string | null;
}

export interface KvEngines {
  /** Answers `backend <url>`. */
  readonly backend: Backend;
  readonly etcd: Etcd;
  readonly redis: Redis;
  readonly consul: FakeConsul;
  readonly zk: ZooKeeper;
  /**
   * A proxy configuration with the entry points `web` and `traefik` (API and Prometheus metrics)
   * and the four KV providers on these engines; `extra` holds each provider's further keys, as
   * YAML lines indented under it (4 spaces).
   */
  proxyConfig(extra?: ProviderExtras): string;
  close(): Promise<void>;
}

export interface ProviderExtras {
  readonly etcd?: string;
  readonly redis?: string;
  readonly consul?: string;
  readonly zooKeeper?: string;
}

/**
 * Starts the backend and the engines together; etcd then holds the service `app` (the backend)
 * and the router `from-etcd` (PathPrefix `/etcd`) that uses it.
 */
export async function startKvEngines(
  o: { etcd?: EtcdOptions; redis?: RedisOptions; consul?: FakeConsulOptions; zk?: ZooKeeperOptions } = {},
): Promise<KvEngines> {
  const [backend, etcd, redis, consul, zk] = await Promise.all([
    startBackend((req, res) => res.end(`backend ${req.url}`)),
    startEtcd(o.etcd),
    startRedis([], o.redis),
    startFakeConsul(o.consul),
    startZooKeeper(o.zk),
  ]);
  await etcd.put('traefik/http/services/app/loadbalancer/servers/0/url', backend.url);
  await etcd.put('traefik/http/routers/from-etcd/rule', 'PathPrefix(`/etcd`)');
  await etcd.put('traefik/http/routers/from-etcd/service', 'app');
  return {
    backend,
    etcd,
    redis,
    consul,
    zk,
    proxyConfig: (extra = {}) => `${providersHead('50ms')}  etcd:
    endpoints: ["${etcd.endpoint}"]
${extra.etcd ?? ''}  redis:
    endpoints: ["${redis.endpoint}"]
${extra.redis ?? ''}  consul:
    endpoints: ["${consul.endpoint}"]
${extra.consul ?? ''}  zooKeeper:
    endpoints: ["${zk.endpoint}"]
${extra.zooKeeper ?? ''}`,
    close: async () => {
      await Promise.all([backend.close(), etcd.close(), redis.close(), consul.close(), zk.close()]);
    },
  };
}

/** GET `path` on the proxy's port: status and body text. */
export async function get(port: number, path: string): Promise<{ status: number; text: string }> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: r.status, text: await r.text() };
}
