/**
 * A Consul KV API on loopback for tests (no Consul package exists in Debian): the endpoints the
 * KV provider uses, with Consul's semantics: a raft index that grows with every write, returned
 * in `X-Consul-Index`; `GET /v1/kv/<prefix>?recurse` (404 when nothing matches); blocking queries
 * (`index` = the last index seen, `wait`) that answer at the next change under the prefix or when
 * the wait runs out; `PUT` and `DELETE` (with `recurse`, and `cas` check-and-set). It can fail every request with 500, or
 * stop listening (connections refused, blocked queries cut), and come back.
 *
 * The catalog too (for the Consul Catalog provider): `GET /v1/catalog/services` (name → tags),
 * `GET /v1/health/service/<name>` (each instance with its node and checks) and
 * `GET /v1/health/state/any`, all with `X-Consul-Index` and blocking queries.
 *
 * And Consul Connect: `GET /v1/health/connect/<name>` (the sidecar proxies of `name`, registered
 * with `kind: 'connect-proxy'` and `destination`, and its Connect-native instances),
 * `GET /v1/agent/connect/ca/roots` and `GET /v1/agent/connect/ca/leaf/<service>` (500 for a service
 * without a leaf, as an agent that cannot sign), with blocking queries; the test sets the roots and
 * leaves, made by its own CA.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Issued } from '../../src/upstream/test-pki.ts';
import { answerBlocking, listenLoopback } from './fake-api.ts';

export interface FakeConsulOptions {
  /** HTTPS with this certificate, and a client certificate of `ca` required (`verify_incoming`). */
  readonly tls?: { readonly ca: Issued; readonly server: Issued };
  /** ACLs on: a request without this `X-Consul-Token` gets 403 "ACL not found". */
  readonly token?: string;
}

export interface FakeConsul {
  readonly endpoint: string;
  put(key: string, value: string): void;
  del(key: string, recurse?: boolean): void;
  /** Every request gets this status while set (null: normal). */
  failWith: number | null;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
  /** Requests seen, for assertions on the protocol (`GET /v1/kv/traefik?recurse=true&index=5&wait=5m`). */
  readonly seen: string[];
  /** Registers (or replaces, by id) a service instance in the catalog. */
  register(instance: CatalogInstance): void;
  deregister(id: string): void;
  /** Sets the status of the instance's one service check. */
  setHealth(id: string, status: 'passing' | 'warning' | 'critical'): void;
  /** The Connect CA roots (PEM) and trust domain the agent answers. */
  setConnectRoots(roots: readonly string[], trustDomain: string): void;
  /** The Connect leaf certificate the agent answers for `service`. */
  setConnectLeaf(service: string, certPem: string, keyPem: string): void;
}

export interface CatalogInstance {
  readonly id: string;
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly tags: readonly string[];
  readonly status?: 'passing' | 'warning' | 'critical';
  /** A sidecar proxy (`connect-proxy`, in front of `destination`); absent = a typical service. */
  readonly kind?: 'connect-proxy';
  readonly destination?: string;
  /** A Connect-native instance (it speaks mTLS itself). */
  readonly connectNative?: boolean;
}

interface Entry {
  value: string;
  createIndex: number;
  modifyIndex: number;
}

export async function startFakeConsul(opts: FakeConsulOptions = {}): Promise<FakeConsul> {
  const kv = new Map<string, Entry>();
  const catalog = new Map<string, CatalogInstance & { status: string }>();
  let index = 1;
  const waiters = new Set<() => void>();
  const seen: string[] = [];
  let roots: { pems: readonly string[]; trustDomain: string } = { pems: [], trustDomain: '' };
  const leaves = new Map<string, { cert: string; key: string }>();
  const bump = (): void => {
    index++;
    for (const w of [...waiters]) w();
  };
  const fake: FakeConsul = {
    endpoint: '',
    failWith: null,
    seen,
    put(key, value) {
      const e = kv.get(key);
      kv.set(key, { value, createIndex: e?.createIndex ?? index + 1, modifyIndex: index + 1 });
      bump();
    },
    del(key, recurse = false) {
      for (const k of [...kv.keys()]) if (k === key || (recurse && k.startsWith(key))) kv.delete(k);
      bump();
    },
    register(i) {
      catalog.set(i.id, { ...i, status: i.status ?? 'passing' });
      bump();
    },
    deregister(id) {
      catalog.delete(id);
      bump();
    },
    setHealth(id, status) {
      const i = catalog.get(id);
      if (i !== undefined) catalog.set(id, { ...i, status });
      bump();
    },
    setConnectRoots(pems, trustDomain) {
      roots = { pems: [...pems], trustDomain };
      bump();
    },
    setConnectLeaf(service, cert, key) {
      leaves.set(service, { cert, key });
      bump();
    },
    stop: async () => {},
    start: async () => {},
    close: async () => {},
  };
  const answer = (res: ServerResponse, prefix: string, recurse: boolean): void => {
    const keys = [...kv.keys()].filter((k) => (recurse ? k.startsWith(prefix) : k === prefix)).sort();
    res.setHeader('x-consul-index', String(index));
    res.setHeader('x-consul-knownleader', 'true');
    if (keys.length === 0) {
      res.writeHead(404).end();
      return;
    }
    const body = keys.map((k) => {
      const e = kv.get(k)!;
      return {
        Key: k,
        Value: e.value === '' ? null : Buffer.from(e.value).toString('base64'),
        CreateIndex: e.createIndex,
        ModifyIndex: e.modifyIndex,
        LockIndex: 0,
        Flags: 0,
      };
    });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    seen.push(`${req.method} ${req.url}`);
    const url = new URL(req.url ?? '/', 'http://consul');
    if (fake.failWith !== null) {
      res.writeHead(fake.failWith).end('rpc error: No cluster leader');
      return;
    }
    if (opts.token !== undefined && req.headers['x-consul-token'] !== opts.token) {
      res.writeHead(403).end('ACL not found');
      return;
    }
    if (url.pathname.startsWith('/v1/catalog/') || url.pathname.startsWith('/v1/health/')) {
      blocking(res, url, () => catalogAnswer(url.pathname));
      return;
    }
    if (url.pathname === '/v1/agent/connect/ca/roots') {
      blocking(res, url, () => ({
        ActiveRootID: roots.pems.length > 0 ? 'root-0' : '',
        TrustDomain: roots.trustDomain,
        Roots: roots.pems.map((pem, i) => ({
          ID: `root-${i}`,
          Name: `Root ${i}`,
          RootCert: pem,
          Active: i === 0,
        })),
      }));
      return;
    }
    if (url.pathname.startsWith('/v1/agent/connect/ca/leaf/')) {
      const service = decodeURIComponent(url.pathname.slice('/v1/agent/connect/ca/leaf/'.length));
      const leaf = leaves.get(service);
      if (leaf === undefined) {
        res.writeHead(500).end(`no leaf certificate for ${service}`);
        return;
      }
      blocking(res, url, () => {
        const now = leaves.get(service) ?? leaf;
        return { Service: service, CertPEM: now.cert, PrivateKeyPEM: now.key };
      });
      return;
    }
    if (!url.pathname.startsWith('/v1/kv/')) {
      res.writeHead(404).end();
      return;
    }
    const key = decodeURIComponent(url.pathname.slice('/v1/kv/'.length));
    const recurse = url.searchParams.has('recurse');
    // Check-and-set (`?cas=N`): 0 writes only an absent key, N only a key last modified at N.
    const cas = url.searchParams.get('cas');
    const casFails = (): boolean =>
      cas !== null && (cas === '0' ? kv.has(key) : kv.get(key)?.modifyIndex !== Number(cas));
    if (req.method === 'PUT') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (casFails()) {
          res.writeHead(200).end('false');
          return;
        }
        fake.put(key, Buffer.concat(chunks).toString('utf8'));
        res.writeHead(200).end('true');
      });
      return;
    }
    if (req.method === 'DELETE') {
      if (casFails()) {
        res.writeHead(200).end('false');
        return;
      }
      fake.del(key, recurse);
      res.writeHead(200).end('true');
      return;
    }
    // A blocking query is answered at the next write (any key: the index moves for all), or when
    // `wait` runs out.
    answerBlocking(res, url, index, waiters, () => answer(res, key, recurse));
  };
  /** The catalog's answers, as Consul's JSON. */
  const catalogAnswer = (path: string): unknown => {
    const all = [...catalog.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
    if (path === '/v1/catalog/services') {
      const out: Record<string, string[]> = { consul: [] };
      for (const i of all) out[i.name] = [...new Set([...(out[i.name] ?? []), ...i.tags])];
      return out;
    }
    if (path === '/v1/health/state/any') {
      return all.map((i) => ({
        Node: 'node1',
        CheckID: `service:${i.id}`,
        ServiceID: i.id,
        Status: i.status,
      }));
    }
    const connect = path.startsWith('/v1/health/connect/');
    const name = decodeURIComponent(
      path.slice((connect ? '/v1/health/connect/' : '/v1/health/service/').length),
    );
    return all
      .filter((i) =>
        connect
          ? (i.kind === 'connect-proxy' && i.destination === name) ||
            (i.connectNative === true && i.name === name)
          : i.name === name,
      )
      .map((i) => ({
        Node: { Node: 'node1', Address: '127.0.0.1', Datacenter: 'dc1' },
        Service: {
          ID: i.id,
          Service: i.name,
          Kind: i.kind ?? '',
          Tags: i.tags,
          Address: i.address,
          Port: i.port,
          Meta: {},
          ...(i.kind === 'connect-proxy' ? { Proxy: { DestinationServiceName: i.destination } } : {}),
          ...(i.connectNative === true ? { Connect: { Native: true } } : {}),
        },
        Checks: [
          { Node: 'node1', CheckID: 'serfHealth', Status: 'passing', ServiceID: '' },
          { Node: 'node1', CheckID: `service:${i.id}`, Status: i.status, ServiceID: i.id },
        ],
      }));
  };
  /** Answers now, or (a blocking query: `index` ≥ the current one) at the next change or after `wait`. */
  const blocking = (res: ServerResponse, url: URL, body: () => unknown): void => {
    answerBlocking(res, url, index, waiters, () => {
      res
        .writeHead(200, { 'content-type': 'application/json', 'x-consul-index': String(index) })
        .end(JSON.stringify(body()));
    });
  };
  const server =
    opts.tls === undefined
      ? createServer(handle)
      : createHttpsServer(
          {
            key: opts.tls.server.keyPem,
            cert: opts.tls.server.certPem,
            ca: opts.tls.ca.certPem,
            requestCert: true,
            rejectUnauthorized: true,
          },
          handle,
        );
  const l = await listenLoopback(server);
  (fake as { endpoint: string }).endpoint = `127.0.0.1:${l.port}`;
  fake.stop = l.stop;
  fake.start = l.start;
  fake.close = l.close;
  return fake;
}
