/**
 * A Kubernetes API server on loopback for tests (none can be installed here), with the list and
 * watch semantics client-go relies on: one resourceVersion counter for every write; a list
 * answers `{kind: <Kind>List, metadata: {resourceVersion}, items}`; `?watch=true&resourceVersion=N`
 * streams every later event as one JSON document per line (`ADDED`, `MODIFIED`, `DELETED`), and
 * answers an `ERROR` with a 410 Status when N was compacted away; `labelSelector` (equality);
 * create (POST), replace (PUT) and delete, so that kubectl can be its client. It can answer 500 to
 * everything, drop every watch, or compact its history.
 *
 * The Gateway API kinds have a status subresource with the API server's semantics: a write of
 * the object keeps its stored `status` (and bumps `metadata.generation` when `spec` changed);
 * `PUT …/status` replaces only `status` and `PATCH …/status` merges into it (JSON merge patch),
 * each refused 409 when the body's `metadata.resourceVersion` is not the stored one, and each a
 * new resourceVersion and a MODIFIED watch event; `GET …/status` answers the object.
 */
import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TestPki } from '../../src/upstream/test-pki.ts';

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

/**
 * The resources the fake serves: path prefix, plural, and kind; `id` names the store when the
 * plural alone does not (Knative's Ingress beside networking.k8s.io's).
 */
const RESOURCE_LIST: readonly {
  prefix: string;
  plural: string;
  kind: string;
  apiVersion: string;
  id?: string;
}[] = [
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
  { prefix: '/api/v1', plural: 'nodes', kind: 'Node', apiVersion: 'v1' },
  { prefix: '/api/v1', plural: 'configmaps', kind: 'ConfigMap', apiVersion: 'v1' },
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
  // The Gateway API v1.6.1 Standard CRDs (Traefik v3.8's): TCPRoute, TLSRoute, BackendTLSPolicy
  // and ListenerSet are served at `v1` only.
  ...[
    'GatewayClass',
    'Gateway',
    'HTTPRoute',
    'GRPCRoute',
    'TCPRoute',
    'TLSRoute',
    'BackendTLSPolicy',
    'ListenerSet',
  ].map((kind) => ({
    prefix: '/apis/gateway.networking.k8s.io/v1',
    plural:
      kind === 'GatewayClass'
        ? 'gatewayclasses'
        : kind === 'BackendTLSPolicy'
          ? 'backendtlspolicies'
          : `${kind.toLowerCase()}s`,
    kind,
    apiVersion: 'gateway.networking.k8s.io/v1',
  })),
  { prefix: '/api/v1', plural: 'configmaps', kind: 'ConfigMap', apiVersion: 'v1' },
  {
    prefix: '/apis/gateway.networking.k8s.io/v1',
    plural: 'referencegrants',
    kind: 'ReferenceGrant',
    apiVersion: 'gateway.networking.k8s.io/v1',
  },
  {
    prefix: '/apis/networking.internal.knative.dev/v1alpha1',
    plural: 'ingresses',
    kind: 'Ingress',
    apiVersion: 'networking.internal.knative.dev/v1alpha1',
    id: 'ingresses.networking.internal.knative.dev',
  },
  // Last: `/api/v1/namespaces/<ns>/<plural>` is another resource's path.
  { prefix: '/api/v1', plural: 'namespaces', kind: 'Namespace', apiVersion: 'v1' },
];
const RESOURCES = RESOURCE_LIST.map((r) => ({ ...r, id: r.id ?? r.plural }));

/** Kinds whose `status` is a subresource (written only through `…/status`). */
const WITH_STATUS = new Set([
  'GatewayClass',
  'Gateway',
  'HTTPRoute',
  'GRPCRoute',
  'TCPRoute',
  'TLSRoute',
  'BackendTLSPolicy',
  'ListenerSet',
  'Ingress',
]);

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
  remove(kind: string, namespace: string, name: string, apiVersion?: string): void;
  /** Forgets the history: watches from an older resourceVersion get 410 Gone. */
  compact(): void;
  /** Ends every open watch stream (as an API server does when a watch times out). */
  dropWatches(): void;
  /** Every request gets this status while set. */
  failWith: number | null;
  /** When set, a request without `Authorization: Bearer <this>` is answered 401. */
  requireToken: string | null;
  /** Requests seen (`GET /apis/…?watch=true&resourceVersion=5`). */
  readonly seen: string[];
  /**
   * Resolves with the stored object once a request whose `METHOD path` matches `pattern` has been
   * answered 2xx (one answered before the call counts when `from` is below its index in `seen`).
   */
  waitForWrite(pattern: RegExp, from?: number): Promise<KubeObj>;
  close(): Promise<void>;
}

/**
 * A provider contract harness's outage steps over a fake API server: `stop` answers 500 to
 * everything and ends the watches, `start` serves again, `close` shuts it.
 */
export function fakeKubeOutage(kube: FakeKube): {
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
} {
  return {
    stop: async () => {
      kube.failWith = 500;
      kube.dropWatches();
    },
    start: async () => {
      kube.failWith = null;
    },
    close: () => kube.close(),
  };
}

export async function startFakeKube(): Promise<FakeKube> {
  const store = new Map<string, Map<string, KubeObj>>(RESOURCES.map((r) => [r.id, new Map()]));
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
  /** Answered 2xx writes: index in `seen`, `METHOD path`, the object answered. */
  const written: { at: number; line: string; obj: KubeObj }[] = [];
  const writeWaiters = new Set<{ pattern: RegExp; from: number; resolve: (o: KubeObj) => void }>();
  const answered = (at: number, line: string, obj: KubeObj): void => {
    written.push({ at, line, obj });
    for (const w of writeWaiters) {
      if (at >= w.from && w.pattern.test(line)) {
        writeWaiters.delete(w);
        w.resolve(obj);
      }
    }
  };

  const byKind = (kind: string, apiVersion?: string) => {
    const r =
      RESOURCES.find((x) => x.kind === kind && x.apiVersion === apiVersion) ??
      RESOURCES.find((x) => x.kind === kind);
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
    const r = byKind(obj.kind, obj.apiVersion);
    const key = `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
    const m = store.get(r.id)!;
    const existed = m.has(key);
    const old = m.get(key);
    rv++;
    const stored: KubeObj = structuredClone({ ...obj, apiVersion: r.apiVersion });
    stored.metadata.resourceVersion = String(rv);
    if (WITH_STATUS.has(r.kind)) {
      // The main resource does not write status; spec changes make a new generation.
      if (old?.['status'] !== undefined) stored['status'] = structuredClone(old['status']);
      else delete stored['status'];
      const gen = Number(old?.metadata['generation'] ?? 0);
      stored.metadata['generation'] =
        old === undefined ? 1 : JSON.stringify(old['spec']) === JSON.stringify(obj['spec']) ? gen : gen + 1;
    }
    m.set(key, stored);
    emit(r.id, existed ? 'MODIFIED' : 'ADDED', stored);
    return stored;
  };
  /** A write of the status subresource: `replace` (PUT) or JSON merge patch (PATCH). */
  const writeStatus = (
    plural: string,
    key: string,
    body: KubeObj,
    how: 'replace' | 'merge',
  ): { code: number; obj: KubeObj | ReturnType<typeof status> } => {
    const m = store.get(plural)!;
    const old = m.get(key);
    if (old === undefined) return { code: 404, obj: status(404, `${plural} "${key}" not found`) };
    const want = body.metadata?.resourceVersion;
    if (want !== undefined && want !== old.metadata.resourceVersion) {
      return {
        code: 409,
        obj: status(
          409,
          `Operation cannot be fulfilled on ${plural} "${old.metadata.name}": the object has been modified; please apply your changes to the latest version and try again`,
        ),
      };
    }
    rv++;
    const stored = structuredClone(old);
    stored['status'] =
      how === 'replace' ? structuredClone(body['status']) : mergePatch(old['status'], body['status']);
    stored.metadata.resourceVersion = String(rv);
    m.set(key, stored);
    emit(plural, 'MODIFIED', stored);
    return { code: 200, obj: stored };
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
    requireToken: null,
    seen,
    apply: (obj) => void put(obj),
    remove: (kind, ns, name, apiVersion) => void del(byKind(kind, apiVersion).id, ns, name),
    compact: () => {
      compactedBelow = rv;
      history.length = 0;
    },
    waitForWrite: (pattern, from = 0) => {
      const done = written.find((w) => w.at >= from && pattern.test(w.line));
      if (done !== undefined) return Promise.resolve(done.obj);
      return new Promise((resolve) => writeWaiters.add({ pattern, from, resolve }));
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
    if (fake.requireToken !== null && req.headers.authorization !== `Bearer ${fake.requireToken}`) {
      json(res, 401, status(401, 'Unauthorized'));
      return;
    }
    const url = new URL(req.url ?? '/', 'http://kube');
    const route = parsePath(url.pathname);
    if (route === undefined) {
      json(res, 404, status(404, `the server could not find the requested resource (${url.pathname})`));
      return;
    }
    const { r, ns, name, sub } = route;
    const m = store.get(r.id)!;
    if (sub !== undefined) {
      const key = `${ns ?? ''}/${name}`;
      if (sub !== 'status' || !WITH_STATUS.has(r.kind)) {
        json(res, 404, status(404, `the server could not find the requested resource (${url.pathname})`));
      } else if (req.method === 'GET') {
        const obj = m.get(key);
        if (obj === undefined) json(res, 404, status(404, `${r.plural} "${name}" not found`));
        else json(res, 200, obj);
      } else if (req.method === 'PUT' || req.method === 'PATCH') {
        const how = req.method === 'PUT' ? 'replace' : 'merge';
        const at = seen.length - 1;
        readJson(req, res, (body) => {
          const out = writeStatus(r.id, key, body, how);
          json(res, out.code, out.obj);
          if (out.code === 200) answered(at, `${req.method} ${url.pathname}`, out.obj as KubeObj);
        });
      } else json(res, 405, status(405, 'method not allowed'));
      return;
    }
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
            e.plural === r.id &&
            (ns === undefined || e.object.metadata.namespace === ns) &&
            selector(e.object)
          ) {
            res.write(`${JSON.stringify({ type: e.type, object: e.object })}\n`);
          }
        }
        const w = { plural: r.id, ns, selector, res };
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
      const gone = del(r.id, ns, name);
      if (gone === undefined) json(res, 404, status(404, `${r.plural} "${name}" not found`));
      else json(res, 200, gone);
      return;
    }
    if ((req.method === 'POST' || req.method === 'PUT') && ns !== undefined) {
      const at = seen.length - 1;
      readJson(req, res, (obj) => {
        obj.kind ??= r.kind;
        obj.apiVersion ??= r.apiVersion;
        obj.metadata = { ...obj.metadata, namespace: ns };
        const exists = m.has(`${ns}/${obj.metadata.name}`);
        if (req.method === 'POST' && exists) {
          json(res, 409, status(409, `${r.plural} "${obj.metadata.name}" already exists`));
          return;
        }
        const stored = put(obj);
        json(res, req.method === 'POST' ? 201 : 200, stored);
        answered(at, `${req.method} ${url.pathname}`, stored);
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
      if (rest[0] === r.plural && rest.length <= 3)
        return {
          r,
          ns: undefined,
          name: rest[1] === undefined ? undefined : decodeURIComponent(rest[1]),
          sub: rest[1] === undefined ? undefined : rest[2],
        };
      if (rest[0] === 'namespaces' && rest[2] === r.plural && rest.length <= 5) {
        return {
          r,
          ns: decodeURIComponent(rest[1]!),
          name: rest[3] === undefined ? undefined : decodeURIComponent(rest[3]),
          sub: rest[3] === undefined ? undefined : rest[4],
        };
      }
    }
    return undefined;
  }
}

type Selector = (o: KubeObj) => boolean;

function readJson(req: IncomingMessage, res: ServerResponse, then: (obj: KubeObj) => void): void {
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
    if (obj === null || typeof obj !== 'object') {
      json(res, 400, status(400, 'the body is not a JSON object'));
      return;
    }
    obj.metadata ??= {} as KubeObj['metadata'];
    then(obj);
  });
}

/** RFC 7386 JSON merge patch: objects merge key by key, null deletes, anything else replaces. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return structuredClone(patch);
  const out: Record<string, unknown> =
    target !== null && typeof target === 'object' && !Array.isArray(target)
      ? structuredClone(target as Record<string, unknown>)
      : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

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
    code === 410
      ? 'Expired'
      : code === 404
        ? 'NotFound'
        : code === 409
          ? message.includes('modified')
            ? 'Conflict'
            : 'AlreadyExists'
          : 'InternalError';
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

/**
 * An https front for the fake API server (a certificate for 127.0.0.1 from a test CA), relaying
 * each request and streaming each answer (watches included): client-go sends a kubeconfig user's
 * credentials to https servers only.
 */
export async function tlsFront(
  kube: FakeKube,
): Promise<{ url: string; caPem: string; close(): Promise<void> }> {
  const pki = new TestPki('fake kube CA');
  const cert = pki.issue('kube-apiserver', ['127.0.0.1']);
  const server = createHttpsServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
    const up = request(`${kube.url}${req.url ?? '/'}`, { method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    res.on('close', () => up.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    caPem: pki.ca.certPem,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(pki.dir, { recursive: true, force: true });
    },
  };
}
