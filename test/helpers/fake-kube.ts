/**
 * A Kubernetes API server on loopback for tests (none can be installed here), with the list and
 * watch semantics client-go relies on: one resourceVersion counter for every write; a list
 * answers `{kind: <Kind>List, metadata: {resourceVersion}, items}`; `?watch=true&resourceVersion=N`
 * streams every later event as one JSON document per line (`ADDED`, `MODIFIED`, `DELETED`), and
 * answers an `ERROR` with a 410 Status when N was compacted away; `labelSelector` (equality);
 * create (POST), replace (PUT) and delete, so that kubectl can be its client. It can answer 500 to
 * everything, drop every watch, or compact its history.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

export interface KubeObj {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

/** The resources the fake serves: path prefix, plural, and kind. */
const RESOURCES: readonly { prefix: string; plural: string; kind: string; apiVersion: string }[] = [
  ...[
    'IngressRoute',
    'IngressRouteTCP',
    'IngressRouteUDP',
    'Middleware',
    'MiddlewareTCP',
    'TraefikService',
    'TLSOption',
    'TLSStore',
    'ServersTransport',
    'ServersTransportTCP',
  ].map((kind) => ({
    prefix: '/apis/traefik.io/v1alpha1',
    plural: `${kind.toLowerCase()}s`,
    kind,
    apiVersion: 'traefik.io/v1alpha1',
  })),
  { prefix: '/api/v1', plural: 'services', kind: 'Service', apiVersion: 'v1' },
  { prefix: '/api/v1', plural: 'secrets', kind: 'Secret', apiVersion: 'v1' },
  {
    prefix: '/apis/discovery.k8s.io/v1',
    plural: 'endpointslices',
    kind: 'EndpointSlice',
    apiVersion: 'discovery.k8s.io/v1',
  },
  ...['Ingress', 'IngressClass'].map((kind) => ({
    prefix: '/apis/networking.k8s.io/v1',
    plural: kind === 'Ingress' ? 'ingresses' : 'ingressclasses',
    kind,
    apiVersion: 'networking.k8s.io/v1',
  })),
  ...['GatewayClass', 'Gateway', 'HTTPRoute'].map((kind) => ({
    prefix: '/apis/gateway.networking.k8s.io/v1',
    plural: kind === 'GatewayClass' ? 'gatewayclasses' : `${kind.toLowerCase()}s`,
    kind,
    apiVersion: 'gateway.networking.k8s.io/v1',
  })),
];

interface Event {
  readonly rv: number;
  readonly plural: string;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly object: KubeObj;
}

export interface FakeKube {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Creates or replaces an object (by kind, namespace and name). */
  apply(obj: KubeObj): void;
  remove(kind: string, namespace: string, name: string): void;
  /** Forgets the history: watches from an older resourceVersion get 410 Gone. */
  compact(): void;
  /** Ends every open watch stream (as an API server does when a watch times out). */
  dropWatches(): void;
  /** Every request gets this status while set. */
  failWith: number | null;
  /** Requests seen (`GET /apis/…?watch=true&resourceVersion=5`). */
  readonly seen: string[];
  close(): Promise<void>;
}

export async function startFakeKube(): Promise<FakeKube> {
  const store = new Map<string, Map<string, KubeObj>>(RESOURCES.map((r) => [r.plural, new Map()]));
  const history: Event[] = [];
  let rv = 100;
  let compactedBelow = 0;
  const watchers = new Set<{
    plural: string;
    ns: string | undefined;
    selector: Selector;
    res: ServerResponse;
  }>();
  const sockets = new Set<Socket>();
  const seen: string[] = [];

  const byKind = (kind: string) => {
    const r = RESOURCES.find((x) => x.kind === kind);
    if (r === undefined) throw new Error(`the fake API server has no kind ${kind}`);
    return r;
  };
  const emit = (plural: string, type: Event['type'], object: KubeObj): void => {
    const e: Event = { rv, plural, type, object };
    history.push(e);
    for (const w of watchers) {
      if (
        w.plural === plural &&
        (w.ns === undefined || w.ns === object.metadata.namespace) &&
        w.selector(object)
      ) {
        w.res.write(`${JSON.stringify({ type, object })}\n`);
      }
    }
  };
  const put = (obj: KubeObj): KubeObj => {
    const r = byKind(obj.kind);
    const key = `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
    const m = store.get(r.plural)!;
    const existed = m.has(key);
    rv++;
    const stored = structuredClone({ ...obj, apiVersion: r.apiVersion });
    stored.metadata.resourceVersion = String(rv);
    m.set(key, stored);
    emit(r.plural, existed ? 'MODIFIED' : 'ADDED', stored);
    return stored;
  };
  const del = (plural: string, ns: string, name: string): KubeObj | undefined => {
    const m = store.get(plural)!;
    const key = `${ns}/${name}`;
    const obj = m.get(key);
    if (obj === undefined) return undefined;
    m.delete(key);
    rv++;
    const gone = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(rv) } };
    emit(plural, 'DELETED', gone);
    return gone;
  };

  const fake: FakeKube = {
    url: '',
    failWith: null,
    seen,
    apply: (obj) => void put(obj),
    remove: (kind, ns, name) => void del(byKind(kind).plural, ns, name),
    compact: () => {
      compactedBelow = rv;
      history.length = 0;
    },
    dropWatches: () => {
      for (const w of watchers) w.res.end();
      watchers.clear();
    },
    close: async () => {},
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    seen.push(`${req.method} ${req.url}`);
    if (fake.failWith !== null) {
      json(res, fake.failWith, status(fake.failWith, 'the fake API server is failing'));
      return;
    }
    const url = new URL(req.url ?? '/', 'http://kube');
    const route = parsePath(url.pathname);
    if (route === undefined) {
      json(res, 404, status(404, `the server could not find the requested resource (${url.pathname})`));
      return;
    }
    const { r, ns, name } = route;
    const m = store.get(r.plural)!;
    if (req.method === 'GET' && name !== undefined) {
      const obj = m.get(`${ns ?? ''}/${name}`);
      if (obj === undefined) json(res, 404, status(404, `${r.plural} "${name}" not found`));
      else json(res, 200, obj);
      return;
    }
    if (req.method === 'GET') {
      const selector = parseSelector(url.searchParams.get('labelSelector') ?? '');
      if (url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1') {
        const from = Number(url.searchParams.get('resourceVersion') ?? '0');
        res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
        if (from > 0 && from < compactedBelow) {
          // client-go re-lists on this.
          res.end(
            `${JSON.stringify({ type: 'ERROR', object: status(410, `too old resource version: ${from} (${compactedBelow})`) })}\n`,
          );
          return;
        }
        for (const e of history) {
          if (
            e.rv > from &&
            e.plural === r.plural &&
            (ns === undefined || e.object.metadata.namespace === ns) &&
            selector(e.object)
          ) {
            res.write(`${JSON.stringify({ type: e.type, object: e.object })}\n`);
          }
        }
        const w = { plural: r.plural, ns, selector, res };
        watchers.add(w);
        res.on('close', () => watchers.delete(w));
        return;
      }
      const items = [...m.values()].filter(
        (o) => (ns === undefined || o.metadata.namespace === ns) && selector(o),
      );
      json(res, 200, {
        kind: `${r.kind}List`,
        apiVersion: r.apiVersion,
        metadata: { resourceVersion: String(rv) },
        items,
      });
      return;
    }
    if (req.method === 'DELETE' && name !== undefined && ns !== undefined) {
      const gone = del(r.plural, ns, name);
      if (gone === undefined) json(res, 404, status(404, `${r.plural} "${name}" not found`));
      else json(res, 200, gone);
      return;
    }
    if ((req.method === 'POST' || req.method === 'PUT') && ns !== undefined) {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let obj: KubeObj;
        try {
          obj = JSON.parse(Buffer.concat(chunks).toString('utf8')) as KubeObj;
        } catch {
          json(res, 400, status(400, 'the body is not JSON'));
          return;
        }
        obj.kind ??= r.kind;
        obj.metadata = { ...obj.metadata, namespace: ns };
        const exists = m.has(`${ns}/${obj.metadata.name}`);
        if (req.method === 'POST' && exists) {
          json(res, 409, status(409, `${r.plural} "${obj.metadata.name}" already exists`));
          return;
        }
        json(res, req.method === 'POST' ? 201 : 200, put(obj));
      });
      return;
    }
    json(res, 405, status(405, 'method not allowed'));
  };

  const server = createServer(handle);
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  (fake as { url: string }).url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = async () => {
    fake.dropWatches();
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return fake;

  function parsePath(p: string) {
    for (const r of RESOURCES) {
      if (!p.startsWith(`${r.prefix}/`)) continue;
      const rest = p.slice(r.prefix.length + 1).split('/');
      if (rest[0] === r.plural && rest.length <= 2) return { r, ns: undefined, name: rest[1] };
      if (rest[0] === 'namespaces' && rest[2] === r.plural && rest.length <= 4) {
        return {
          r,
          ns: decodeURIComponent(rest[1]!),
          name: rest[3] === undefined ? undefined : decodeURIComponent(rest[3]),
        };
      }
    }
    return undefined;
  }
}

type Selector = (o: KubeObj) => boolean;

function parseSelector(s: string): Selector {
  const terms = s
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '')
    .map((t) => {
      const neq = t.split('!=');
      if (neq.length === 2) return (o: KubeObj) => o.metadata.labels?.[neq[0]!.trim()] !== neq[1]!.trim();
      const [k, v] = t.split(/==?/);
      return (o: KubeObj) => o.metadata.labels?.[k!.trim()] === v?.trim();
    });
  return (o) => terms.every((t) => t(o));
}

function status(code: number, message: string) {
  const reason =
    code === 410 ? 'Expired' : code === 404 ? 'NotFound' : code === 409 ? 'AlreadyExists' : 'InternalError';
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function json(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

const execFileP = promisify(execFile);

/**
 * Runs `kubectl` (Debian's kubernetes-client) with `kubeconfig`, as a client of the fake API
 * server; its stdout. A missing kubectl fails at once naming the install command.
 */
export async function kubectl(kubeconfig: string, ...args: string[]): Promise<string> {
  try {
    return (await execFileP('kubectl', args, { env: { ...process.env, KUBECONFIG: kubeconfig } })).stdout;
  } catch (e) {
    const err = e as { code?: string; stderr?: string; message: string };
    if (err.code === 'ENOENT') throw new Error('kubectl is missing (apt-get install kubernetes-client)');
    throw new Error(`kubectl ${args.join(' ')}: ${err.stderr ?? err.message}`);
  }
}

/** Writes `<dir>/kubeconfig` for kubectl against the fake at `url` (bearer token, `namespace` as default). */
export function writeKubeconfig(dir: string, url: string, namespace?: string): string {
  const path = join(dir, 'kubeconfig');
  const ns = namespace === undefined ? '' : `, namespace: ${namespace}`;
  writeFileSync(
    path,
    `apiVersion: v1
kind: Config
clusters: [{ name: fake, cluster: { server: "${url}" } }]
users: [{ name: tester, user: { token: test-token } }]
contexts: [{ name: fake, context: { cluster: fake, user: tester${ns} } }]
current-context: fake
`,
  );
  return path;
}
