/**
 * A Consul KV API on loopback for tests (no Consul package exists in Debian): the endpoints the
 * KV provider uses, with Consul's semantics: a raft index that grows with every write, returned
 * in `X-Consul-Index`; `GET /v1/kv/<prefix>?recurse` (404 when nothing matches); blocking queries
 * (`index` = the last index seen, `wait`) that answer at the next change under the prefix or when
 * the wait runs out; `PUT` and `DELETE` (with `recurse`, and `cas` check-and-set). It can fail every request with 500, or
 * stop listening (connections refused, blocked queries cut), and come back.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

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
}

interface Entry {
  value: string;
  createIndex: number;
  modifyIndex: number;
}

export async function startFakeConsul(): Promise<FakeConsul> {
  const kv = new Map<string, Entry>();
  let index = 1;
  const waiters = new Set<() => void>();
  const sockets = new Set<Socket>();
  const seen: string[] = [];
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
    const want = Number(url.searchParams.get('index') ?? 0);
    if (want > 0 && want >= index) {
      // A blocking query: answered at the next write under the prefix, or when `wait` runs out.
      const waitMs = Math.min(parseWait(url.searchParams.get('wait') ?? '5m'), 600_000);
      const done = (): void => {
        waiters.delete(onChange);
        clearTimeout(timer);
        answer(res, key, recurse);
      };
      const onChange = (): void => {
        // Consul wakes a query only for a change under its prefix; the index still moves.
        done();
      };
      const timer = setTimeout(done, waitMs);
      waiters.add(onChange);
      res.on('close', () => {
        waiters.delete(onChange);
        clearTimeout(timer);
      });
      return;
    }
    answer(res, key, recurse);
  };
  const server = createServer(handle);
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  (fake as { endpoint: string }).endpoint = `127.0.0.1:${port}`;
  fake.stop = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  };
  fake.start = () => new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  fake.close = async () => {
    if (server.listening) await fake.stop();
  };
  return fake;
}

function parseWait(s: string): number {
  const m = /^(\d+)(ms|s|m)?$/.exec(s);
  if (m === null) return 300_000;
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000;
}
