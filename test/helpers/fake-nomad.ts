/**
 * Nomad's HTTP API on loopback for tests (Nomad has no Debian package), answering with the shapes
 * of Traefik's fixtures (pkg/provider/nomad/fixtures): `GET /v1/services` (per namespace, each
 * service's name and tags), `GET /v1/service/<name>` (its registrations: ID, ServiceName,
 * Namespace, NodeID, Datacenter, JobID, AllocID, Address, Port, Tags, indexes; Nomad's `filter`
 * expression `Tags contains "…"`), `GET /v1/jobs` and `GET /v1/job/<id>` (task groups with Count,
 * Scaling and services, as `allowEmptyServices` reads them), and `GET /v1/event/stream` (one JSON
 * frame per line, `{}` heartbeats, a `Service` event per registration change).
 *
 * Every answer carries `X-Nomad-Index` (the raft index, bumped by every change); `/v1/services`
 * and `/v1/service/<name>` are blocking queries with `index` and `wait`, as Nomad's. `namespace`
 * selects the namespace (`default` when absent, `*` all of them). With `token`, a request without
 * that `X-Nomad-Token` gets 403 `Permission denied`. It can fail every request, or stop listening
 * (connections refused, streams cut), and come back.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { answerBlocking, listenLoopback } from './fake-api.ts';

export interface NomadRegistration {
  readonly id: string;
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly tags: readonly string[];
  readonly namespace?: string;
  readonly node?: string;
  readonly job?: string;
}

/** A job as `allowEmptyServices` reads it: its task groups, their count, scaling and services. */
export interface NomadJob {
  readonly id: string;
  readonly namespace?: string;
  readonly stop?: boolean;
  readonly groups: readonly {
    readonly name: string;
    readonly count: number;
    /** A `scaling` block (enabled); absent = none. */
    readonly scaling?: boolean;
    readonly services: readonly { readonly name: string; readonly tags: readonly string[] }[];
    readonly tasks?: readonly {
      readonly name: string;
      readonly services: readonly { readonly name: string; readonly tags: readonly string[] }[];
    }[];
  }[];
}

export interface FakeNomad {
  /** `http://127.0.0.1:<port>`, or `unix://<path>` with the `socketPath` option. */
  readonly address: string;
  /** Every request gets this status while set (null: normal). */
  failWith: number | null;
  /** Requests seen (`GET /v1/services?namespace=team`), with the token they carried. */
  readonly seen: { readonly url: string; readonly token: string | undefined }[];
  /** Registers (or replaces, by id) a service instance. */
  register(r: NomadRegistration): void;
  deregister(id: string): void;
  setJob(job: NomadJob): void;
  /** Event streams open now. */
  streams(): number;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startFakeNomad(opts: { token?: string; socketPath?: string } = {}): Promise<FakeNomad> {
  const regs = new Map<string, NomadRegistration & { createIndex: number; modifyIndex: number }>();
  const jobs = new Map<string, NomadJob>();
  let index = 10;
  const waiters = new Set<() => void>();
  const streams = new Set<{ ns: string; res: ServerResponse }>();
  const seen: { url: string; token: string | undefined }[] = [];
  const nsOf = (r: { namespace?: string | undefined }): string => r.namespace ?? 'default';
  const bump = (type: string, r: NomadRegistration | undefined): void => {
    index++;
    for (const w of [...waiters]) w();
    if (r === undefined) return;
    for (const s of streams) {
      if (s.ns !== '*' && s.ns !== nsOf(r)) continue;
      const frame = {
        Index: index,
        Events: [
          {
            Topic: 'Service',
            Type: type,
            Key: r.name,
            Namespace: nsOf(r),
            FilterKeys: null,
            Index: index,
            Payload: { Service: registration(r, index, index) },
          },
        ],
      };
      s.res.write(`${JSON.stringify(frame)}\n`);
    }
  };
  const registration = (r: NomadRegistration, createIndex: number, modifyIndex: number) => ({
    ID: r.id,
    ServiceName: r.name,
    Namespace: nsOf(r),
    NodeID: r.node ?? '6d7f412e-e7ff-2e66-d47b-867b0e9d8726',
    Datacenter: 'dc1',
    JobID: r.job ?? r.name,
    AllocID: `alloc-${r.id}`,
    Tags: [...r.tags],
    Address: r.address,
    Port: r.port,
    CreateIndex: createIndex,
    ModifyIndex: modifyIndex,
  });
  const fake: FakeNomad = {
    address: '',
    failWith: null,
    seen,
    register(r) {
      const before = regs.get(r.id);
      regs.set(r.id, { ...r, createIndex: before?.createIndex ?? index + 1, modifyIndex: index + 1 });
      bump('ServiceRegistration', r);
    },
    deregister(id) {
      const r = regs.get(id);
      regs.delete(id);
      bump('ServiceDeregistration', r);
    },
    setJob(job) {
      jobs.set(job.id, job);
      bump('JobRegistered', undefined);
    },
    streams: () => streams.size,
    stop: async () => {},
    start: async () => {},
    close: async () => {},
  };

  const inNs = (ns: string, r: { namespace?: string | undefined }): boolean => ns === '*' || nsOf(r) === ns;
  /** Nomad's filter expressions, as far as Traefik writes them: `Tags contains "x"`. */
  const passes = (filter: string | null, r: NomadRegistration): boolean => {
    if (filter === null || filter === '') return true;
    const m = /^Tags contains "((?:[^"\\]|\\.)*)"$/.exec(filter);
    if (m === null) throw new Error(`unsupported filter: ${filter}`);
    return r.tags.includes(JSON.parse(`"${m[1]}"`) as string);
  };
  const answer = (url: URL, ns: string): unknown => {
    const path = url.pathname;
    const all = [...regs.values()].filter((r) => inNs(ns, r)).sort((a, b) => (a.id < b.id ? -1 : 1));
    if (path === '/v1/services') {
      const byNs = new Map<string, Map<string, Set<string>>>();
      for (const r of all) {
        const names = byNs.get(nsOf(r)) ?? new Map<string, Set<string>>();
        byNs.set(nsOf(r), names);
        names.set(r.name, new Set([...(names.get(r.name) ?? []), ...r.tags]));
      }
      return [...byNs].map(([namespace, names]) => ({
        Namespace: namespace,
        Services: [...names].map(([name, tags]) => ({ ServiceName: name, Tags: [...tags] })),
      }));
    }
    const name = decodeURIComponent(path.slice('/v1/service/'.length));
    const filter = url.searchParams.get('filter');
    return all
      .filter((r) => r.name === name && passes(filter, r))
      .map((r) => registration(r, r.createIndex, r.modifyIndex));
  };
  const jobAnswer = (path: string, ns: string): unknown => {
    const list = [...jobs.values()].filter((j) => inNs(ns, j)).sort((a, b) => (a.id < b.id ? -1 : 1));
    if (path === '/v1/jobs') {
      return list.map((j) => ({
        ID: j.id,
        ParentID: '',
        Name: j.id,
        Namespace: nsOf(j),
        Type: 'service',
        Stop: j.stop === true,
        Status: j.stop === true ? 'dead' : 'running',
      }));
    }
    const j = list.find((x) => x.id === decodeURIComponent(path.slice('/v1/job/'.length)));
    if (j === undefined) return undefined;
    const service = (s: { name: string; tags: readonly string[] }, task: string) => ({
      Name: s.name,
      TaskName: task,
      PortLabel: 'http',
      Provider: 'nomad',
      Tags: [...s.tags],
    });
    return {
      ID: j.id,
      Name: j.id,
      Namespace: nsOf(j),
      Stop: j.stop === true,
      Status: j.stop === true ? 'dead' : 'running',
      TaskGroups: j.groups.map((g) => ({
        Name: g.name,
        Count: g.count,
        Scaling:
          g.scaling === true
            ? { ID: `${j.id}-${g.name}`, Enabled: true, Min: 0, Max: 3, Type: 'horizontal' }
            : null,
        Services: g.services.map((s) => service(s, '')),
        Tasks: (g.tasks ?? []).map((t) => ({
          Name: t.name,
          Driver: 'docker',
          Services: t.services.map((s) => service(s, t.name)),
        })),
      })),
    };
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const token = req.headers['x-nomad-token'];
    seen.push({ url: `${req.method} ${req.url}`, token: typeof token === 'string' ? token : undefined });
    const url = new URL(req.url ?? '/', 'http://nomad');
    if (fake.failWith !== null) {
      res.writeHead(fake.failWith).end('No cluster leader');
      return;
    }
    if (opts.token !== undefined && token !== opts.token) {
      res.writeHead(403).end('Permission denied');
      return;
    }
    const ns = url.searchParams.get('namespace') ?? 'default';
    const path = url.pathname;
    if (path === '/v1/event/stream') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{}\n');
      const s = { ns, res };
      streams.add(s);
      res.on('close', () => streams.delete(s));
      return;
    }
    if (path === '/v1/jobs' || path.startsWith('/v1/job/')) {
      const body = jobAnswer(path, ns);
      if (body === undefined) {
        res.writeHead(404).end('job not found');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'x-nomad-index': String(index) });
      res.end(JSON.stringify(body));
      return;
    }
    if (path !== '/v1/services' && !path.startsWith('/v1/service/')) {
      res.writeHead(404).end();
      return;
    }
    const send = (): void => {
      let body: unknown;
      try {
        body = answer(url, ns);
      } catch (e) {
        res.writeHead(400).end((e as Error).message);
        return;
      }
      res
        .writeHead(200, { 'content-type': 'application/json', 'x-nomad-index': String(index) })
        .end(JSON.stringify(body));
    };
    answerBlocking(res, url, index, waiters, send);
  };
  const server = createServer(handle);
  if (opts.socketPath !== undefined) {
    const path = opts.socketPath;
    await new Promise<void>((r) => server.listen(path, r));
    (fake as { address: string }).address = `unix://${path}`;
    const close = (): Promise<void> => new Promise<void>((r) => server.close(() => r()));
    server.on('connection', (s) => server.once('close', () => s.destroy()));
    fake.stop = close;
    fake.close = async () => {
      if (server.listening) {
        server.closeAllConnections();
        await close();
      }
    };
    fake.start = () => new Promise<void>((r) => server.listen(path, r));
    return fake;
  }
  const l = await listenLoopback(server);
  (fake as { address: string }).address = `http://127.0.0.1:${l.port}`;
  fake.stop = l.stop;
  fake.start = l.start;
  fake.close = l.close;
  return fake;
}
