import type { ConfigIssue } from '../../config/issues.ts';
import type { SourceOf } from '../dynamic-data.ts';
import type { StatusUpdate } from './gateway-status.ts';
import type { KubeObject } from './informer.ts';
import { KubeBuild, type Obj, ruleString } from './kube-build.ts';

/** What the Knative provider watches. */
export interface KnativeObjects {
  /** `networking.internal.knative.dev/v1alpha1` Ingresses. */
  readonly ingresses: readonly KubeObject[];
  readonly services: readonly KubeObject[];
  readonly secrets: readonly KubeObject[];
}

/** Traefik's knative ServiceRef. */
export interface KnativeServiceRef {
  readonly name: string;
  readonly namespace: string;
}

export interface KnativeOptions {
  readonly publicEntrypoints: readonly string[];
  readonly privateEntrypoints: readonly string[];
  readonly publicService?: KnativeServiceRef | undefined;
  readonly privateService?: KnativeServiceRef | undefined;
}

/** The ingress class Traefik answers to (pkg/provider/kubernetes/knative traefikIngressClassName). */
export const KNATIVE_INGRESS_CLASS = 'traefik.ingress.networking.knative.dev';
const CLASS_ANNOTATION = 'networking.knative.dev/ingress.class';
export const KNATIVE_API = '/apis/networking.internal.knative.dev/v1alpha1';
/** knative.dev/networking's AppProtocolH2C: such a port is spoken to in cleartext HTTP/2. */
const APP_PROTOCOL_H2C = 'kubernetes.io/h2c';

interface HeaderMatch {
  readonly exact?: string;
}
interface Split {
  readonly serviceName?: string;
  readonly serviceNamespace?: string;
  readonly servicePort?: number | string;
  readonly percent?: number;
  readonly appendHeaders?: Readonly<Record<string, string>> | null;
}
interface HttpPath {
  readonly path?: string;
  readonly headers?: Readonly<Record<string, HeaderMatch>> | null;
  readonly appendHeaders?: Readonly<Record<string, string>> | null;
  readonly splits?: readonly Split[] | null;
}
interface Rule {
  readonly hosts?: readonly string[] | null;
  readonly visibility?: string;
  readonly http?: { readonly paths?: readonly HttpPath[] | null } | null;
}
interface IngressSpec {
  readonly tls?: readonly { readonly secretName?: string; readonly secretNamespace?: string }[] | null;
  readonly rules?: readonly Rule[] | null;
}
interface ServicePort {
  readonly name?: string;
  readonly port?: number;
  readonly appProtocol?: string;
}
interface Condition {
  readonly type?: string;
  readonly status?: string;
}
interface IngressStatus {
  readonly observedGeneration?: number;
  readonly conditions?: readonly Condition[] | null;
}

export interface KnativeBuilt {
  readonly data: Obj;
  readonly sourceOf: SourceOf;
  readonly issues: ConfigIssue[];
  /** The status of each Ingress handled, when it must be written. */
  readonly statuses: StatusUpdate[];
}

/**
 * Traefik's knative Provider.loadConfiguration (pkg/provider/kubernetes/knative/kubernetes.go):
 * Ingresses of the class `traefik.ingress.networking.knative.dev` only; per rule with `http`
 * (ClusterLocal ones on privateEntrypoints, skipped without them; the others on
 * publicEntrypoints) and per path, the router `<ns>-<name>-rule-<r>-path-<p>` (and its `-tls`
 * twin when the Ingress has `tls`), its `-append-headers` headers middleware, and its `-wrr`
 * weighted service over one load balancer per split (`-split-<s>`: the Service's cluster IP and
 * port, h2c for an `kubernetes.io/h2c` appProtocol), weighted by percent (100 for a lone split),
 * with the split's appendHeaders. An Ingress whose TLS secret cannot be loaded is left out whole.
 */
export function knativeConfig(objs: KnativeObjects, opts: KnativeOptions): KnativeBuilt {
  const b = new KubeBuild(
    { services: objs.services, endpointSlices: [], secrets: objs.secrets },
    {
      allowEmptyServices: false,
      allowCrossNamespace: true,
    },
  );
  const statuses: StatusUpdate[] = [];
  const certs = new Set<string>();
  for (const ing of objs.ingresses) {
    if (ing.metadata.annotations?.[CLASS_ANNOTATION] !== KNATIVE_INGRESS_CLASS) continue;
    const ns = ing.metadata.namespace ?? 'default';
    const where = `knative ingress ${ns}/${ing.metadata.name}`;
    const spec = (ing.spec ?? {}) as IngressSpec;
    if (!loadCertificates(b, spec, ns, where, certs)) continue;
    buildRouters(b, spec, `${ns}-${ing.metadata.name}`, where, opts);
    const status = knativeStatus(ing, opts);
    if (status !== undefined) statuses.push(status);
  }
  return { ...b.result(), statuses };
}

/** Traefik's loadCertificates: secrets of the Ingress's own namespace only; one failure, none. */
function loadCertificates(
  b: KubeBuild,
  spec: IngressSpec,
  ns: string,
  where: string,
  seen: Set<string>,
): boolean {
  for (const t of spec.tls ?? []) {
    if (t.secretNamespace !== ns || t.secretName === undefined) continue;
    const k = `${ns}/${t.secretName}`;
    if (seen.has(k)) continue;
    const c = b.certificate(ns, t.secretName, where);
    if (c === undefined) return false;
    if (c.certFile === '' || c.keyFile === '') {
      b.error(where, `secret ${k} does not contain a keypair`);
      return false;
    }
    seen.add(k);
    b.certificates.push(c);
  }
  return true;
}

function buildRouters(
  b: KubeBuild,
  spec: IngressSpec,
  base: string,
  where: string,
  opts: KnativeOptions,
): void {
  const hasTls = (spec.tls ?? []).length > 0;
  (spec.rules ?? []).forEach((rule, ri) => {
    if (rule.http === undefined || rule.http === null) return;
    let entryPoints = opts.publicEntrypoints;
    if (rule.visibility === 'ClusterLocal') {
      if (opts.privateEntrypoints.length === 0) return;
      entryPoints = opts.privateEntrypoints;
    }
    (rule.http.paths ?? []).forEach((path, pi) => {
      const key = `${base}-rule-${ri}-path-${pi}`;
      const router: Obj = {
        ...(entryPoints.length > 0 ? { entryPoints: [...entryPoints] } : {}),
        rule: knativeRule(rule.hosts ?? [], path.headers ?? {}, path.path ?? ''),
        middlewares: [] as string[],
        service: `${key}-wrr`,
      };
      const append = path.appendHeaders ?? {};
      if (Object.keys(append).length > 0) {
        // Added before the splits are built, as Traefik does: it stays when they fail.
        const mid = `${key}-append-headers`;
        (router['middlewares'] as string[]).push(mid);
        b.middlewares[mid] = { headers: { customRequestHeaders: { ...append } } };
        b.source('middlewares', mid, where);
      }
      const wrr = buildWeighted(b, key, path.splits ?? [], where);
      if (wrr === undefined) return;
      b.routers[key] = router;
      b.source('routers', key, where);
      if (hasTls) {
        b.routers[`${key}-tls`] = { ...router, tls: {} };
        b.source('routers', `${key}-tls`, where);
      }
      b.services[`${key}-wrr`] = { weighted: { services: wrr } };
      b.source('services', `${key}-wrr`, where);
    });
  });
}

/** Traefik's buildWeightedRoundRobin: undefined (reported) when one split's Service fails. */
function buildWeighted(
  b: KubeBuild,
  key: string,
  splits: readonly Split[],
  where: string,
): Obj[] | undefined {
  const out: Obj[] = [];
  const made: [string, Obj][] = [];
  for (const [si, split] of splits.entries()) {
    const name = `${key}-split-${si}`;
    const url = serverUrl(b, split, where);
    if (url === undefined) return undefined;
    made.push([name, { loadBalancer: { servers: [{ url }] } }]);
    const headers = split.appendHeaders ?? undefined;
    out.push({
      name,
      // "If there is only one split it defaults to 100" (the Knative spec).
      weight: splits.length === 1 ? 100 : (split.percent ?? 0),
      ...(headers === undefined ? {} : { headers: { ...headers } }),
    });
  }
  for (const [name, svc] of made) {
    b.services[name] = svc;
    b.source('services', name, where);
  }
  return out;
}

/** Traefik's buildServers: the Service's cluster IP and the port named or numbered so. */
function serverUrl(b: KubeBuild, split: Split, where: string): string | undefined {
  const ns = split.serviceNamespace ?? '';
  const id = `${ns}/${split.serviceName ?? ''}`;
  const svc = b.service(ns, split.serviceName ?? '');
  if (svc === undefined) return b.error(where, `service ${id} not found`);
  const want = String(split.servicePort ?? 0);
  const sspec = (svc.spec ?? {}) as { clusterIP?: string; ports?: readonly ServicePort[] | null };
  const port = (sspec.ports ?? []).find((p) => p.name === want || String(p.port) === want);
  if (port?.port === undefined) return b.error(where, `service ${id}: service port ${want} not found`);
  const ip = sspec.clusterIP ?? '';
  if (ip === '') return b.error(where, `service ${id} does not have a ClusterIP`);
  const scheme = port.appProtocol === APP_PROTOCOL_H2C ? 'h2c' : 'http';
  return `${scheme}://${ip.includes(':') ? `[${ip}]` : ip}:${port.port}`;
}

/** Traefik's buildRule: the hosts, the exact header matches (sorted by name), the path prefix. */
export function knativeRule(
  hosts: readonly string[],
  headers: Readonly<Record<string, HeaderMatch>>,
  path: string,
): string {
  const operands: string[] = [];
  if (hosts.length > 0) operands.push(`(${hosts.map((h) => `Host(${ruleString(h)})`).join(' || ')})`);
  const names = Object.keys(headers).sort();
  if (names.length > 0)
    operands.push(
      `(${names.map((n) => `Header(${ruleString(n)},${ruleString(headers[n]?.exact ?? '')})`).join(' && ')})`,
    );
  if (path !== '') operands.push(`PathPrefix(${ruleString(path)})`);
  return operands.join(' && ');
}

/**
 * Traefik's updateKnativeIngressStatus: unless NetworkConfigured is already True for the
 * current generation, the Ingress is marked NetworkConfigured and LoadBalancerReady (hence
 * Ready), with the public and private load balancers (`<name>.<namespace>.svc.cluster.local`
 * of publicService / privateService when both their keys are set), and its observedGeneration.
 * Conditions keep Knative's order (by type); others already there are kept.
 */
function knativeStatus(ing: KubeObject, opts: KnativeOptions): StatusUpdate | undefined {
  const current = ((ing as { status?: IngressStatus }).status ?? {}) as IngressStatus & Obj;
  const generation = (ing.metadata as { generation?: number }).generation ?? 0;
  const configured = (current.conditions ?? []).some(
    (c) => c.type === 'NetworkConfigured' && c.status === 'True',
  );
  if (configured && (current.observedGeneration ?? 0) === generation) return undefined;
  const ours = new Set(['LoadBalancerReady', 'NetworkConfigured', 'Ready']);
  const conditions = [
    ...(current.conditions ?? []).filter((c) => !ours.has(c.type ?? '')),
    ...[...ours].map((type) => ({ type, status: 'True' })),
  ].sort((a, z) => ((a.type ?? '') < (z.type ?? '') ? -1 : (a.type ?? '') > (z.type ?? '') ? 1 : 0));
  const ns = ing.metadata.namespace ?? 'default';
  return {
    kind: 'Ingress',
    apiVersion: 'networking.internal.knative.dev/v1alpha1',
    object: ing,
    path: `${KNATIVE_API}/namespaces/${encodeURIComponent(ns)}/ingresses/${encodeURIComponent(ing.metadata.name)}`,
    status: {
      ...current,
      observedGeneration: generation,
      conditions,
      publicLoadBalancer: loadBalancer(opts.publicService),
      privateLoadBalancer: loadBalancer(opts.privateService),
    },
  };
}

/** knative.dev/pkg/network GetServiceHostname, with the default cluster domain. */
function loadBalancer(ref: KnativeServiceRef | undefined): Obj {
  if (ref === undefined || ref.name === '' || ref.namespace === '') return {};
  return { ingress: [{ domainInternal: `${ref.name}.${ref.namespace}.svc.cluster.local` }] };
}
