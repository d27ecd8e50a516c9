import { createHash } from 'node:crypto';
import type { ConfigIssue } from '../../config/issues.ts';
import { parseGoBool } from '../../core/go-bool.ts';
import type { SourceOf } from '../dynamic-data.ts';
import type { StatusUpdate } from './gateway-status.ts';
import type { KubeObject } from './informer.ts';
import { type IngressEndpoint, ingressStatus } from './ingress-status.ts';
import {
  KubeBuild,
  type KubernetesMeta,
  normalize,
  type Obj,
  quoteMeta,
  ruleString,
  type ServiceOptions,
} from './kube-build.ts';

export interface IngressObjects {
  readonly ingresses: readonly KubeObject[];
  /** Absent: not looked up (disableIngressClassLookup, disableClusterScopeResources). */
  readonly ingressClasses?: readonly KubeObject[];
  readonly services: readonly KubeObject[];
  readonly endpointSlices: readonly KubeObject[];
  readonly secrets: readonly KubeObject[];
  /** Cluster-scoped, for the `service.nodeportlb` annotation. */
  readonly nodes?: readonly KubeObject[];
}

export interface IngressOptions extends ServiceOptions {
  readonly ingressClass: string;
  readonly strictPrefixMatching: boolean;
  /** What to write in the handled Ingresses' status (ingress-status.ts); absent: nothing. */
  readonly ingressEndpoint?: IngressEndpoint | undefined;
}

const CONTROLLER = 'traefik.io/ingress-controller';
const PREFIX = 'traefik.ingress.kubernetes.io/';
/** Traefik's router annotations (pkg/provider/kubernetes/ingress/annotations.go) we build. */
const ROUTER_KEYS = new Set([
  'router.entrypoints',
  'router.middlewares',
  'router.priority',
  'router.pathmatcher',
  'router.tls',
  'router.tls.certresolver',
  'router.tls.options',
  'router.rulesyntax',
  'router.observability.accesslogs',
  'router.observability.metrics',
  'router.observability.tracing',
  'router.observability.traceverbosity',
]);
/**
 * `router.tls.domains.<n>.main` and `.sans`: Traefik's convertAnnotations turns `x.<n>.y` into
 * the label `x[<n>].y`, decoded into RouterTLSConfig.Domains.
 */
const DOMAIN_KEY = /^router\.tls\.domains\.(\d+)\.(main|sans)$/;
/** Its service annotations, read on the Kubernetes Service. */
const SERVICE_KEYS = new Set([
  'service.serversscheme',
  'service.serverstransport',
  'service.passhostheader',
  'service.sticky.cookie',
  'service.sticky.cookie.name',
  'service.sticky.cookie.secure',
  'service.sticky.cookie.httponly',
  'service.sticky.cookie.samesite',
  'service.sticky.cookie.maxage',
  'service.sticky.cookie.path',
  'service.sticky.cookie.domain',
  // Traefik v3.7: the service's own middlewares.
  'service.middlewares',
  'service.nativelb',
  'service.nodeportlb',
]);

interface Backend {
  readonly service?: {
    readonly name?: string;
    readonly port?: { readonly number?: number; readonly name?: string };
  };
}

interface IngressSpec {
  readonly ingressClassName?: string;
  readonly defaultBackend?: Backend;
  readonly tls?: readonly { readonly hosts?: readonly string[]; readonly secretName?: string }[];
  readonly rules?: readonly {
    readonly host?: string;
    readonly http?: {
      readonly paths?: readonly ({ readonly path?: string; readonly pathType?: string } & {
        readonly backend?: Backend;
      })[];
    };
  }[];
}

/**
 * Ingresses (`networking.k8s.io/v1`) as Traefik's Ingress provider reads them
 * (pkg/provider/kubernetes/ingress/kubernetes.go):
 *
 * - handled when `ingressClassName` names an IngressClass whose controller is
 *   `traefik.io/ingress-controller` (and, with the `ingressClass` option, that name); without a
 *   class name, when the `kubernetes.io/ingress.class` annotation equals the option (both may be
 *   empty) or is `traefik` while the option is empty;
 * - each path is a router `normalize(<ns>-<ingress>-<host><path>)` whose rule is
 *   ``Host(`h`)`` (``HostRegexp`` for `*.`) `&&` ``Path`` for `Exact`, ``PathPrefix`` for
 *   `Prefix` (`strictPrefixMatching`: the whole segment) and for `ImplementationSpecific`
 *   (or the `router.pathmatcher` annotation); its service `<ns>-<service>-<port>`;
 * - `defaultBackend` of an Ingress without rules is the router `default-router`,
 *   ``PathPrefix(`/`)`` at the lowest priority, to the load balancer `default-backend` (one only);
 * - `spec.tls[].secretName` certificates join the default store; `router.tls=true` (or
 *   another router.tls annotation) makes the routers HTTPS;
 * - Traefik's annotations `traefik.ingress.kubernetes.io/router.*` on the Ingress and
 *   `…/service.*` on the Service. *Differs from Traefik:* an unknown annotation under that
 *   prefix is a warning, not silently ignored.
 */
export function ingressConfig(
  objs: IngressObjects,
  opts: IngressOptions,
): { data: Obj; sourceOf: SourceOf; issues: ConfigIssue[]; statuses: StatusUpdate[]; meta: KubernetesMeta } {
  const b = new KubeBuild(objs, { ...opts, allowCrossNamespace: false });
  const statuses: StatusUpdate[] = [];
  // Without the lookup, no class is known: an Ingress naming one is not handled (Traefik's
  // shouldProcessIngress over an empty list); the annotation still works.
  const classes = new Set(
    (objs.ingressClasses ?? [])
      .filter((c) => (c.spec as { controller?: string } | undefined)?.controller === CONTROLLER)
      .filter((c) => opts.ingressClass === '' || c.metadata.name === opts.ingressClass)
      .map((c) => c.metadata.name),
  );
  const services = new Map(objs.services.map((s) => [`${s.metadata.namespace}/${s.metadata.name}`, s]));

  for (const ing of [...objs.ingresses].sort(byKey)) {
    const ns = ing.metadata.namespace ?? 'default';
    const where = `ingress ${ns}/${ing.metadata.name}`;
    const spec = (ing.spec ?? {}) as IngressSpec;
    if (!handled(ing, spec, classes, opts.ingressClass)) continue;
    // Its routers (`default-router` too) name it in the access log (Traefik v3.7 PR #12913).
    b.owner = { kind: 'Ingress', namespace: ns, name: ing.metadata.name };
    const ann = annotations(b, ing.metadata.annotations, ROUTER_KEYS, where, 'Ingress');
    // Traefik's crossProviderNamespaces (v3.7.1): an Ingress of a namespace the option does not
    // list cannot name another provider's middleware or TLS options (`x@file`, `y@kubernetescrd`)
    // in its router annotations; it is skipped with an error.
    const foreign = [
      ...(list(ann['router.middlewares']) ?? []).map((m) => ['router.middlewares', m] as const),
      ...(ann['router.tls.options'] !== undefined
        ? [['router.tls.options', ann['router.tls.options']] as const]
        : []),
    ];
    if (foreign.some(([k, n]) => b.crossProvider(where, `${k} ${n}`, n, ns))) continue;
    for (const t of spec.tls ?? []) if (t.secretName !== undefined) b.addCertificate(ns, t.secretName, where);

    const backend = (bk: Backend | undefined, at: string, nameOverride?: string): string | undefined => {
      const svc = bk?.service;
      if (svc?.name === undefined)
        return b.error(at, 'a backend without a service (resource backends are not supported)');
      const port = svc.port?.number ?? svc.port?.name;
      const sann = annotations(
        b,
        services.get(`${ns}/${svc.name}`)?.metadata.annotations,
        SERVICE_KEYS,
        `service ${ns}/${svc.name}`,
        'Service',
      );
      // Traefik v3.7's service middlewares (annotations.go ServiceIng.Middlewares): on the
      // service, names as written (`<ns>-<name>@kubernetescrd`, `x@file`); another provider's
      // is checked against crossProviderNamespaces as the router's are (Traefik PR #13670):
      // refused, the backend is skipped.
      const serviceMws = list(sann['service.middlewares']);
      for (const m of serviceMws ?? []) {
        if (b.crossProvider(`service ${ns}/${svc.name}`, `service.middlewares ${m}`, m, ns)) return undefined;
      }
      const sticky = stickyOf(sann);
      // Traefik's loadConfigurationFromIngresses: `<ns>-<service>-<port name, else number>`.
      const portString =
        svc.port?.name !== undefined && svc.port.name !== '' ? svc.port.name : svc.port?.number;
      return b.loadBalancer(
        {
          name: svc.name,
          port,
          scheme: sann['service.serversscheme'],
          passHostHeader: bool(sann['service.passhostheader']),
          serversTransport: sann['service.serverstransport'],
          sticky,
          // `service.nativelb` overrides the nativeLBByDefault option (Traefik's loadService).
          nativeLB: bool(sann['service.nativelb']),
          nodePortLB: bool(sann['service.nodeportlb']),
          middlewares: serviceMws,
        },
        ns,
        at,
        nameOverride ?? normalize(`${ns}-${svc.name}-${portString ?? ''}`),
      );
    };
    const routerBase = (): Obj => {
      const r: Obj = {};
      const eps = list(ann['router.entrypoints']);
      if (eps !== undefined) r['entryPoints'] = eps;
      const mws = list(ann['router.middlewares']);
      if (mws !== undefined) r['middlewares'] = mws;
      if (ann['router.priority'] !== undefined) r['priority'] = ann['router.priority'];
      const domains = tlsDomains(ann);
      const tlsOn =
        bool(ann['router.tls']) === true ||
        ann['router.tls.certresolver'] !== undefined ||
        ann['router.tls.options'] !== undefined ||
        domains !== undefined;
      if (tlsOn) {
        const tls: Obj = {};
        if (ann['router.tls.certresolver'] !== undefined)
          tls['certResolver'] = ann['router.tls.certresolver'];
        if (ann['router.tls.options'] !== undefined) tls['options'] = ann['router.tls.options'];
        if (domains !== undefined) tls['domains'] = domains;
        r['tls'] = tls;
      }
      // Traefik's RouterIng RuleSyntax and Observability (annotations.go): the router's.
      const syntax = ann['router.rulesyntax'];
      // Kept as given (`v3` too, which core.defaultRuleSyntax must not override).
      if (syntax !== undefined && syntax !== '') r['ruleSyntax'] = syntax;
      const observability: Obj = {};
      for (const [k, field] of [
        ['accesslogs', 'accessLogs'],
        ['metrics', 'metrics'],
        ['tracing', 'tracing'],
      ] as const) {
        const v = ann[`router.observability.${k}`];
        if (v !== undefined) observability[field] = goBool(v);
      }
      const verbosity = ann['router.observability.traceverbosity'];
      if (verbosity !== undefined) observability['traceVerbosity'] = verbosity;
      if (Object.keys(observability).length > 0) r['observability'] = observability;
      return r;
    };

    // Traefik's loadConfigurationFromIngresses: an Ingress without rules and with a
    // defaultBackend is the router `default-router` (PathPrefix(`/`) at math.MinInt32, the
    // annotations' entry points, middlewares and TLS, not their priority) to the load balancer
    // `default-backend`; one only (a second is an error); an Ingress with rules ignores it.
    if (
      (spec.rules ?? []).length === 0 &&
      spec.defaultBackend !== undefined &&
      spec.defaultBackend !== null
    ) {
      if (b.services['default-backend'] !== undefined) {
        b.error(where, 'the default backend already exists');
        continue;
      }
      const svc = backend(spec.defaultBackend, where, 'default-backend');
      if (svc === undefined) continue;
      const { priority: _, ...base } = routerBase();
      b.routers['default-router'] = {
        ...base,
        rule: 'PathPrefix(`/`)',
        // Traefik's default-backend router (loadConfigurationFromIngresses) says v3; `default` is
        // the same syntax without the deprecation warning a router's own ruleSyntax gets.
        ruleSyntax: 'default',
        priority: -2147483648,
        service: 'default-backend',
      };
      b.source('http/routers', 'default-router', where);
      b.source('http/services', 'default-backend', where);
    }
    // Traefik's loadConfigurationFromIngresses updates the status inside its loop over the rules:
    // an Ingress with rules, handled, whose annotations parsed.
    if ((spec.rules ?? []).length > 0 && opts.ingressEndpoint !== undefined) {
      const update = ingressStatus(b, ing, opts.ingressEndpoint, where);
      if (update !== undefined) statuses.push(update);
    }
    // Traefik groups this Ingress's routers by key; a key several paths share (`/foo/bar` and
    // `/foo-bar` both normalize to `…-foo-bar`) names each `<key>-<first 10 bytes of
    // sha256(rule), hex>` (makeRouterKeyWithHash) instead of keeping the last one.
    const byKey = new Map<string, Obj[]>();
    for (const rule of spec.rules ?? []) {
      const host = rule.host ?? '';
      for (const p of rule.http?.paths ?? []) {
        const path = p.path ?? '';
        const name = normalize(`${ns}-${ing.metadata.name}-${host}${path}`);
        const svc = backend(p.backend, where);
        if (svc === undefined) continue;
        const parts: string[] = [];
        if (host !== '') parts.push(hostRule(host));
        if (path !== '') {
          const type = p.pathType ?? 'ImplementationSpecific';
          if (type === 'Exact') parts.push(`Path(${ruleString(path)})`);
          else if (type === 'Prefix' && opts.strictPrefixMatching && path !== '/') {
            const bare = path.replace(/\/+$/, '');
            parts.push(`(Path(${ruleString(bare)}) || PathPrefix(${ruleString(`${bare}/`)}))`);
          } else if (type === 'Prefix' || type === 'ImplementationSpecific') {
            const matcher =
              type === 'ImplementationSpecific' ? (ann['router.pathmatcher'] ?? 'PathPrefix') : 'PathPrefix';
            // A path holding a backtick stays one string (kube-build.ts ruleString).
            parts.push(`${matcher}(${ruleString(path)})`);
          } else {
            b.error(where, `path ${path}: unknown pathType ${type}`);
            continue;
          }
        }
        const router = {
          ...routerBase(),
          rule: parts.length === 0 ? 'PathPrefix(`/`)' : parts.join(' && '),
          service: svc,
        };
        const same = byKey.get(name);
        if (same === undefined) byKey.set(name, [router]);
        else same.push(router);
      }
    }
    for (const [key, routers] of byKey) {
      for (const router of routers) {
        const name =
          routers.length === 1
            ? key
            : `${key}-${createHash('sha256').update(String(router['rule'])).digest('hex').slice(0, 20)}`;
        b.routers[name] = router;
        b.source('http/routers', name, where);
      }
    }
  }
  b.owner = null;
  return { ...b.result(), statuses };
}

function handled(ing: KubeObject, spec: IngressSpec, classes: ReadonlySet<string>, option: string): boolean {
  if (spec.ingressClassName !== undefined) return classes.has(spec.ingressClassName);
  const a = ing.metadata.annotations?.['kubernetes.io/ingress.class'] ?? '';
  return a === option || (option === '' && a === 'traefik');
}

/** ``Host(`h`)``, or for `*.example.com` a HostRegexp matching one label (Traefik's buildHostRule). */
function hostRule(host: string): string {
  return host.startsWith('*.') ? `HostRegexp(\`${hostRegexp(host)}\`)` : `Host(\`${host}\`)`;
}

/**
 * The pattern of a `*.example.com` host: one label, then the rest as it is (Traefik's
 * buildHostRule text exactly: regexp.QuoteMeta of the rest, the label `[a-zA-Z0-9-]+`).
 */
function hostRegexp(host: string): string {
  return `^[a-zA-Z0-9-]+\\.${quoteMeta(host.slice(2))}$`;
}

/** Traefik's annotations under `traefik.ingress.kubernetes.io/`; unknown ones are warned about. */
function annotations(
  b: KubeBuild,
  all: Readonly<Record<string, string>> | undefined,
  known: ReadonlySet<string>,
  where: string,
  kind: string,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(all ?? {})) {
    if (!k.startsWith(PREFIX)) continue;
    const rest = k.slice(PREFIX.length).toLowerCase();
    if (known.has(rest) || (known === ROUTER_KEYS && DOMAIN_KEY.test(rest))) out[rest] = v;
    else b.warn(where, `annotation ${k} is not a known ${kind} annotation: ignored`);
  }
  return out;
}

function stickyOf(a: Record<string, string>): Obj | undefined {
  if (bool(a['service.sticky.cookie']) !== true) return undefined;
  const cookie: Obj = {};
  for (const f of ['name', 'secure', 'httponly', 'samesite', 'maxage', 'path', 'domain']) {
    const v = a[`service.sticky.cookie.${f}`];
    if (v !== undefined)
      cookie[f === 'httponly' ? 'httpOnly' : f === 'samesite' ? 'sameSite' : f === 'maxage' ? 'maxAge' : f] =
        v;
  }
  return { cookie };
}

/**
 * `router.tls.domains.<n>.main` / `.sans` (comma-separated) as the router's `domains`, in index
 * order (Traefik's label decoding of `domains[<n>]`); undefined without any.
 */
function tlsDomains(a: Record<string, string>): Obj[] | undefined {
  const byIndex = new Map<number, Obj>();
  for (const [k, v] of Object.entries(a)) {
    const m = DOMAIN_KEY.exec(k);
    if (m === null) continue;
    const i = Number(m[1]);
    const d = byIndex.get(i) ?? {};
    if (m[2] === 'main') d['main'] = v;
    else d['sans'] = list(v) ?? [];
    byIndex.set(i, d);
  }
  if (byIndex.size === 0) return undefined;
  return [...byIndex.entries()].sort((x, y) => x[0] - y[0]).map(([, d]) => d);
}

/** Go's strconv.ParseBool, as Traefik's label decoding reads a bool; other text is passed on for the schema to report. */
function goBool(v: string): boolean | string {
  return parseGoBool(v) ?? v;
}

function bool(v: string | undefined): boolean | undefined {
  return v === undefined ? undefined : v.trim().toLowerCase() === 'true';
}

function list(v: string | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  const l = v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return l.length === 0 ? undefined : l;
}

function byKey(a: KubeObject, b: KubeObject): number {
  const ka = `${a.metadata.namespace}/${a.metadata.name}`;
  const kb = `${b.metadata.namespace}/${b.metadata.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}
