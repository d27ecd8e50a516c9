import type { ConfigIssue } from '../../config/issues.ts';
import { goQuote } from '../../core/go-string.ts';
import type { SourceOf } from '../dynamic-data.ts';
import type { StatusUpdate } from './gateway-status.ts';
import type { KubeObject } from './informer.ts';
import { backendScheme, type NginxConfig, parseNginxAnnotations } from './ingress-nginx-annotations.ts';
import {
  type NginxMiddlewareContext,
  nginxMiddlewares,
  sslRedirect,
  UNAVAILABLE,
} from './ingress-nginx-middlewares.ts';
import { nginxIngressStatus } from './ingress-status.ts';
import { KubeBuild, type KubernetesMeta, normalize, type Obj, quoteMeta } from './kube-build.ts';

export interface NginxObjects {
  readonly ingresses: readonly KubeObject[];
  readonly ingressClasses: readonly KubeObject[];
  readonly services: readonly KubeObject[];
  readonly endpointSlices: readonly KubeObject[];
  readonly secrets: readonly KubeObject[];
  readonly configMaps: readonly KubeObject[];
}

/** `providers.kubernetesIngressNGINX` as the builder reads it (config/static/providers.ts). */
export interface NginxOptions {
  readonly ingressClass: string;
  readonly controllerClass: string;
  readonly watchIngressWithoutClass: boolean;
  readonly ingressClassByName: boolean;
  readonly publishService: string;
  readonly publishStatusAddress: readonly string[];
  readonly defaultBackendService: string;
  readonly disableSvcExternalName: boolean;
  readonly proxyRequestBuffering: boolean;
  readonly clientBodyBufferSize: number;
  readonly proxyBodySize: number;
  readonly proxyBuffering: boolean;
  readonly proxyBufferSize: number;
  readonly proxyBuffersNumber: number;
  readonly proxyConnectTimeout: number;
  /** Seconds: the servers transport's readTimeout (Traefik v3.8); absent = 60, as the static default. */
  readonly proxyReadTimeout?: number;
  /** Seconds: the servers transport's writeTimeout (Traefik v3.8); absent = 60. */
  readonly proxySendTimeout?: number;
  readonly proxyNextUpstream: string;
  readonly proxyNextUpstreamTries: number;
  readonly proxyNextUpstreamTimeout: number;
  readonly customHTTPErrors: readonly string[];
  readonly upstreamKeepaliveTimeout: number;
  readonly allowCrossNamespaceResources: boolean;
  readonly globalAllowedResponseHeaders: readonly string[];
  readonly allowSnippetAnnotations: boolean;
  readonly globalAuthURL: string;
  readonly httpEntryPoint: string;
  readonly httpsEntryPoint: string;
  readonly strictValidatePathType: boolean;
  /** The ipStrategy of the source-range annotations' ipAllowList (Traefik v3.7). */
  readonly ipAllowListStrategy?:
    | {
        readonly depth?: number | undefined;
        readonly excludedIPs?: readonly string[] | undefined;
        readonly ipv6Subnet?: number | undefined;
      }
    | undefined;
  /** The static entry points without `http.tls` (Traefik's NonTLSEntryPoints, SetEffectiveConfiguration). */
  readonly nonTlsEntryPoints: readonly string[];
}

export interface IngressBackend {
  readonly service?: {
    readonly name?: string;
    readonly port?: { readonly number?: number; readonly name?: string };
  };
}

interface IngressPath {
  readonly path?: string;
  readonly pathType?: string;
  readonly backend?: IngressBackend;
}

interface IngressRule {
  readonly host?: string;
  readonly http?: { readonly paths?: readonly IngressPath[] };
}

interface IngressSpec {
  readonly ingressClassName?: string;
  readonly defaultBackend?: IngressBackend | null;
  readonly tls?: readonly { readonly hosts?: readonly string[]; readonly secretName?: string }[];
  readonly rules?: readonly IngressRule[];
}

interface Canary {
  readonly backend: IngressBackend;
  readonly cookie: string;
  readonly header: string;
  readonly headerValue: string;
  readonly headerPattern: string;
  readonly weight: number;
  readonly weightTotal: number;
}

const MIN_PRIORITY = -2147483648;

/** ingress-nginx's path check (internal/ingress/inspector/rules.go), Traefik's strictPathTypeRegexp. */
const STRICT_PATH = /^\/[A-Za-z0-9._\-/]*$/;

/**
 * Ingresses for ingress-nginx as Traefik's kubernetesIngressNGINX provider reads them
 * (pkg/provider/kubernetes/ingress-nginx/kubernetes.go loadConfiguration):
 *
 * - handled: `ingressClassName` naming one of our IngressClasses (controller `controllerClass`,
 *   or the class named `ingressClass` with `ingressClassByName`), else the
 *   `kubernetes.io/ingress.class` annotation equal to `ingressClass`, else
 *   `watchIngressWithoutClass`;
 * - each path is two routers, `<ns>-<ingress>-rule-<i>-path-<j>` on the HTTP entry points and
 *   `…-tls` (TLS) on the HTTPS ones, to the service `<ns>-<ingress>-<service>-<port>`;
 *   `ImplementationSpecific` is `Prefix`, a prefix matches whole segments unless a path of the
 *   host uses a regex (`use-regex` or `rewrite-target`), then it is a case-insensitive
 *   `PathRegexp("(?i)^<path>")`;
 * - `spec.tls` secrets are certificates; with a TLS section the HTTP routers redirect to HTTPS
 *   (`ssl-redirect`, default true there), `force-ssl-redirect` redirects without one;
 * - `spec.defaultBackend` without rules is `default-backend` / `default-backend-tls` at the
 *   lowest priority, with rules a `Host` router per host; the `defaultBackendService` option is
 *   the same pair for every request nothing else matches;
 * - canary Ingresses (`canary: "true"`) split the traffic of the Ingress paths they repeat.
 */
export function nginxIngressConfig(
  objs: NginxObjects,
  opts: NginxOptions,
): { data: Obj; sourceOf: SourceOf; issues: ConfigIssue[]; statuses: StatusUpdate[]; meta: KubernetesMeta } {
  const b = new KubeBuild(objs, {
    // Traefik builds a load balancer without servers (503) rather than refusing it.
    allowEmptyServices: true,
    allowCrossNamespace: false,
    allowExternalNameServices: !opts.disableSvcExternalName,
  });
  const statuses: StatusUpdate[] = [];
  const httpEps = opts.httpEntryPoint !== '' ? [opts.httpEntryPoint] : [...opts.nonTlsEntryPoints];
  const tlsEps = opts.httpsEntryPoint !== '' ? [opts.httpsEntryPoint] : undefined;
  const withEps = (r: Obj, eps: readonly string[] | undefined): Obj =>
    eps === undefined || eps.length === 0 ? r : { entryPoints: [...eps], ...r };
  const configMaps = new Map(objs.configMaps.map((c) => [`${c.metadata.namespace}/${c.metadata.name}`, c]));

  if (opts.defaultBackendService !== '') {
    const [ns, name] = opts.defaultBackendService.split('/') as [string, string];
    const where = `providers.kubernetesIngressNGINX.defaultBackendService ${ns}/${name}`;
    // Traefik's loadConfiguration gives up the whole configuration when this fails.
    if (b.loadBalancer({ name, scheme: 'http' }, ns, where, 'default-backend') === undefined)
      return { ...b.result(), statuses };
    const base = {
      rule: 'PathPrefix("/")',
      ruleSyntax: 'default',
      priority: MIN_PRIORITY,
      service: 'default-backend',
    };
    b.routers['default-backend'] = withEps(base, httpEps);
    b.routers['default-backend-tls'] = withEps({ ...base, tls: {} }, tlsEps);
    // Traefik v3.7's translate gives these routers the Service's namespace as the Ingress's and
    // no Ingress name (KubernetesIngressMetadata{Namespace, ServiceName}): the access log then
    // has KubernetesIngressNamespace alone (an empty name is left out).
    b.owner = { kind: 'Ingress', namespace: ns, name: '' };
    b.source('http/routers', 'default-backend', where);
    b.source('http/routers', 'default-backend-tls', where);
    b.owner = null;
  }

  const classes = ourClasses(objs.ingressClasses, opts);
  const ingresses: { ing: KubeObject; cfg: NginxConfig; spec: IngressSpec; where: string }[] = [];
  const canaries: typeof ingresses = [];
  const hosts = new Set<string>();
  const regexHosts = new Set<string>();
  const paths = new Map<string, { path: IngressPath; cfg: NginxConfig }>();
  /** server-alias names by the first Ingress (in creation order) naming them (resolveAliases). */
  const claimed = new Map<string, string>();
  // Traefik's build.go: oldest first (creationTimestamp), ties by namespace/name descending, as
  // ingress-nginx; the first Ingress claims a server-alias, a host's server-snippet, the
  // provider's catch-all default backend.
  for (const ing of [...objs.ingresses].sort(byCreation)) {
    const spec = (ing.spec ?? {}) as IngressSpec;
    if (!handled(ing, spec, classes, opts)) continue;
    const ns = ing.metadata.namespace ?? 'default';
    const where = `ingress ${ns}/${ing.metadata.name}`;
    const cfg = parseNginxAnnotations(ing.metadata.annotations);
    const invalid = invalidIngress(spec, cfg, opts);
    if (invalid !== undefined) {
      b.error(where, `invalid Ingress configuration: ${invalid}`);
      continue;
    }
    // Traefik's loadConfiguration: canaries are matched against every other Ingress first.
    if (cfg.canary === true) {
      canaries.push({ ing, cfg, spec, where });
      continue;
    }
    for (const alias of cfg['server-alias'] ?? []) {
      const a = alias.toLowerCase();
      if (!claimed.has(a)) claimed.set(a, `${ns}/${ing.metadata.name}`);
    }
    for (const rule of spec.rules ?? []) {
      const host = rule.host ?? '';
      hosts.add(host);
      // One path of a host with use-regex (or rewrite-target) makes every path of it a regex.
      if (cfg['use-regex'] === true || (cfg['rewrite-target'] ?? '') !== '') regexHosts.add(host);
      for (const p of rule.http?.paths ?? [])
        if (p.backend?.service !== undefined) paths.set(pathKey(ns, host, p), { path: p, cfg });
    }
    ingresses.push({ ing, cfg, spec, where });
  }

  const serverSnippets = firstServerSnippets(ingresses);
  let catchAllTaken = opts.defaultBackendService !== '';

  const canaryByBackend = new Map<string, Canary>();
  const matched = new Set<string>();
  for (const c of canaries) {
    const ns = c.ing.metadata.namespace ?? 'default';
    for (const rule of c.spec.rules ?? []) {
      if (rule.http === undefined) continue;
      const found = canaryBackends(b, ns, rule, c.cfg, paths, matched);
      if (typeof found === 'string') {
        b.error(c.where, `canary: ${found}`);
        continue;
      }
      for (const [k, v] of found.backends) canaryByBackend.set(k, v);
      for (const k of found.paths) matched.add(k);
    }
  }

  for (const { ing, cfg, spec, where } of ingresses) {
    const ns = ing.metadata.namespace ?? 'default';
    const name = ing.metadata.name;
    // Every router made for it names it in the access log, its www redirects and canary routers
    // too (Traefik v3.7 PR #12913: translate gives them all the location's observability).
    b.owner = { kind: 'Ingress', namespace: ns, name };
    const status = nginxIngressStatus(b, ing, opts.publishService, opts.publishStatusAddress, where);
    if (status !== undefined) statuses.push(status);
    const hasTLS = (spec.tls ?? []).length > 0;
    for (const t of spec.tls ?? [])
      if ((t.secretName ?? '') !== '') b.addCertificate(ns, t.secretName!, where);

    let tlsOption: string | undefined;
    if (cfg['auth-tls-secret'] !== undefined) {
      // Traefik v3.7.11 (build.go, GHSA-j994-9gqj-9hwq): the name is a function of what the
      // options hold, `<secret ns>-<len>-<secret name>-<len>-<client auth type, kebab-case>`, so
      // Ingresses sharing a host and one mTLS policy share one options set. Named after the
      // Ingress, they made a conflict on that host, whose handshakes then got the default options:
      // no client certificate asked for.
      const o = clientAuthOption(b, ns, cfg, opts, where);
      if (o === undefined) continue;
      tlsOption = o.name;
      b.tlsOptions[tlsOption] ??= o.options;
    }
    const transport = serversTransport(b, ns, name, cfg, opts, where);
    if (transport === undefined) continue;
    const tlsConf = tlsOption === undefined ? {} : { options: tlsOption };
    const ctx: NginxMiddlewareContext = {
      b,
      ns,
      ingress: name,
      cfg,
      hosts,
      serverSnippets,
      opts,
      configMaps,
      where,
      // The error pages' backend (Traefik's translator: buildService without the location's
      // config, so plain http://, no sticky cookie, no hash; its endpoints read with
      // service-upstream as the Ingress says).
      service: (backend, svcName) =>
        buildService(
          b,
          ns,
          backend,
          cfg['service-upstream'] === undefined ? {} : { 'service-upstream': cfg['service-upstream'] },
          svcName,
          undefined,
          where,
        ),
    };
    const service = (backend: IngressBackend, svcName: string): string | undefined =>
      buildService(b, ns, backend, cfg, svcName, transport, where);
    /**
     * A router and its middlewares (`<key>-<what>`; the HTTP one redirects to https when it
     * should). When a middleware cannot be built, the router answers 503 through
     * `unavailable-service`, without middlewares (Traefik's translate, a location with an error).
     */
    const addRouter = (key: string, r: Obj, path: string, host: string, backend: IngressBackend): void => {
      if (!nginxMiddlewares(ctx, key, path, host, backend, r)) {
        delete r['middlewares'];
        r['service'] = UNAVAILABLE;
        b.services[UNAVAILABLE] ??= { loadBalancer: { servers: [] } };
      } else if (r['tls'] === undefined) sslRedirect(b, key, cfg, hasTLS, r);
      b.routers[key] = r;
      b.source('http/routers', key, where);
    };

    const defaultBackend =
      spec.defaultBackend?.service !== undefined && spec.defaultBackend !== null
        ? spec.defaultBackend
        : undefined;
    // Traefik's build: an Ingress without rules gives the catch-all default backend only when the
    // provider has none and no older Ingress gave one.
    if (defaultBackend !== undefined && (spec.rules ?? []).length === 0 && !catchAllTaken) {
      catchAllTaken = true;
      if (service(defaultBackend, 'default-backend') !== undefined) {
        const base = {
          rule: 'PathPrefix("/")',
          ruleSyntax: 'default',
          priority: MIN_PRIORITY,
          service: 'default-backend',
        };
        addRouter('default-backend', withEps(base, httpEps), '', '', defaultBackend);
        addRouter('default-backend-tls', withEps({ ...base, tls: tlsConf }, tlsEps), '', '', defaultBackend);
      }
    }

    (spec.rules ?? []).forEach((rule, ri) => {
      const host = rule.host ?? '';
      if (cfg['ssl-passthrough'] === true) {
        const pt = passthrough(b, ns, name, rule, defaultBackend, tlsEps, where);
        // Traefik's translate: the host also gets an HTTP router `<key>-http` to the backend
        // (its backend-protocol honoured), redirecting to https when the Ingress would.
        const svc = pt?.backend.service;
        if (pt === undefined || svc?.name === undefined) return;
        const svcName = normalize(`${ns}-${name}-${svc.name}-${portString(pt.backend)}`);
        if (service(pt.backend, svcName) === undefined) return;
        const r = withEps({ rule: hostRule(host), ruleSyntax: 'default', service: svcName }, httpEps);
        sslRedirect(b, pt.key, cfg, hasTLS, r);
        b.routers[`${pt.key}-http`] = r;
        b.source('http/routers', `${pt.key}-http`, where);
        return;
      }
      if (defaultBackend !== undefined && host !== '') {
        const key = normalize(`${ns}-${name}-default-backend`);
        if (service(defaultBackend, key) !== undefined) {
          const base = { rule: hostRule(host), ruleSyntax: 'default', service: key };
          addRouter(key, withEps(base, httpEps), '', host, defaultBackend);
          addRouter(`${key}-tls`, withEps({ ...base, tls: tlsConf }, tlsEps), '', host, defaultBackend);
        }
      }
      (rule.http?.paths ?? []).forEach((pa, pi) => {
        const svc = pa.backend?.service;
        if (svc?.name === undefined) {
          b.error(where, `path ${pa.path ?? ''}: ignored, it has no service backend`);
          return;
        }
        const serviceName = normalize(`${ns}-${name}-${svc.name}-${portString(pa.backend!)}`);
        if (service(pa.backend!, serviceName) === undefined) return;
        const canary = canaryByBackend.get(`${ns}/${svc.name}/${portString(pa.backend!)}`);
        let target = serviceName;
        const canaryName = `${serviceName}-canary`;
        if (canary !== undefined) {
          if (service(canary.backend, canaryName) === undefined) return;
          target = `${serviceName}-wrr`;
          const sticky = stickyOf(cfg, 'wrr');
          b.services[target] = {
            weighted: {
              ...(sticky !== undefined ? { sticky } : {}),
              services: [
                { name: serviceName, weight: canary.weightTotal - canary.weight },
                { name: canaryName, weight: canary.weight },
              ],
            },
          };
          b.source('http/services', target, where);
        }
        const routerKey = normalize(`${ns}-${name}-rule-${ri}-path-${pi}`);
        const ruleText = buildRule(host, pa, cfg, hosts, regexHosts, claimed, `${ns}/${name}`);
        // Each router's middlewares are its own, `-tls` ones included (Traefik's translate).
        const add = (key: string, r: Obj, _tls: boolean): void =>
          addRouter(key, r, pa.path ?? '', host, pa.backend!);
        add(routerKey, withEps({ rule: ruleText, ruleSyntax: 'default', service: target }, httpEps), false);
        add(
          `${routerKey}-tls`,
          withEps({ rule: ruleText, ruleSyntax: 'default', service: target, tls: tlsConf }, tlsEps),
          true,
        );
        if (canary !== undefined && (canary.cookie !== '' || canary.header !== '')) {
          const k = `${routerKey}-canary`;
          const r = canaryRule(canary, ruleText);
          add(k, withEps({ rule: r, ruleSyntax: 'default', service: canaryName }, httpEps), false);
          add(
            `${k}-tls`,
            withEps({ rule: r, ruleSyntax: 'default', service: canaryName, tls: tlsConf }, tlsEps),
            true,
          );
        }
        if (canary !== undefined && needsNonCanaryRouter(canary)) {
          const k = `${routerKey}-non-canary`;
          const r = nonCanaryRule(canary, ruleText);
          add(k, withEps({ rule: r, ruleSyntax: 'default', service: serviceName }, httpEps), false);
          add(
            `${k}-tls`,
            withEps({ rule: r, ruleSyntax: 'default', service: serviceName, tls: tlsConf }, tlsEps),
            true,
          );
        }
      });
    });
  }
  b.owner = null;
  return { ...b.result(), statuses };
}

/** Traefik's filterIngressClass: by controller, or (ingressClassByName) the one named ingressClass alone. */
function ourClasses(all: readonly KubeObject[], opts: NginxOptions): Set<string> {
  const out = new Set<string>();
  for (const ic of all) {
    if (opts.ingressClassByName && ic.metadata.name === opts.ingressClass) return new Set([ic.metadata.name]);
    if ((ic.spec as { controller?: string } | undefined)?.controller === opts.controllerClass)
      out.add(ic.metadata.name);
  }
  return out;
}

/** Traefik's shouldProcessIngress. */
function handled(
  ing: KubeObject,
  spec: IngressSpec,
  classes: ReadonlySet<string>,
  opts: NginxOptions,
): boolean {
  if (classes.size > 0 && spec.ingressClassName !== undefined) return classes.has(spec.ingressClassName);
  const a = ing.metadata.annotations?.['kubernetes.io/ingress.class'];
  if (a !== undefined) return a === opts.ingressClass;
  return opts.watchIngressWithoutClass;
}

/**
 * Traefik's validateIngress: snippets unless allowed, regex characters in strict paths. Allowed,
 * `server-snippet`, `configuration-snippet` and `auth-snippet` (with auth-url) go to the `snippet`
 * middleware (nginxMiddlewares).
 */
function invalidIngress(spec: IngressSpec, cfg: NginxConfig, opts: NginxOptions): string | undefined {
  const snippet = ['server-snippet', 'configuration-snippet', 'auth-snippet'].some(
    (k) => (cfg[k as 'server-snippet'] ?? '') !== '',
  );
  if (snippet && !opts.allowSnippetAnnotations)
    return 'snippet annotations are not allowed when allowSnippetAnnotations is disabled';
  if (opts.strictValidatePathType) {
    for (const rule of spec.rules ?? [])
      for (const p of rule.http?.paths ?? []) {
        const type = p.pathType ?? 'Prefix';
        if ((p.path ?? '') !== '' && type !== 'ImplementationSpecific' && !STRICT_PATH.test(p.path!))
          return `regex characters are not allowed for pathType ${type} when strictValidatePathType is enabled`;
      }
  }
  return undefined;
}

function pathKey(ns: string, host: string, p: IngressPath): string {
  return `${ns}/${host}${p.path ?? ''}/${p.pathType ?? 'Prefix'}`;
}

function portString(bk: IngressBackend): string {
  const port = bk.service?.port;
  return port?.name !== undefined && port.name !== '' ? port.name : String(port?.number ?? 0);
}

/** Traefik's discoverCanaryBackends: every path of the rule must repeat a path no other canary took. */
function canaryBackends(
  b: KubeBuild,
  ns: string,
  rule: IngressRule,
  cfg: NginxConfig,
  paths: ReadonlyMap<string, { path: IngressPath; cfg: NginxConfig }>,
  matched: ReadonlySet<string>,
): { backends: Map<string, Canary>; paths: Set<string> } | string {
  const out = { backends: new Map<string, Canary>(), paths: new Set<string>() };
  for (const pa of rule.http?.paths ?? []) {
    const key = pathKey(ns, rule.host ?? '', pa);
    const what = `host=${rule.host ?? ''}, path=${pa.path ?? ''}, pathType=${pa.pathType ?? 'Prefix'}`;
    const original = paths.get(key);
    if (original === undefined) return `canary ingress does not match Ingress rule ${what}`;
    if (matched.has(key)) return `a canary ingress is already matching Ingress rule ${what}`;
    if (pa.backend?.service === undefined) continue;
    // Traefik's build: a canary path to the very Service and port of the path it repeats changes
    // nothing (a "non-matching" canary).
    const prod = original.path.backend?.service;
    if (
      pa.backend.service.name === prod?.name &&
      portString(pa.backend) === portString(original.path.backend!)
    )
      continue;
    // A canary Service without endpoints (or missing) leaves that path alone.
    if (!hasServers(b, ns, pa.backend, original.cfg)) continue;
    out.paths.add(key);
    const total = Math.max(cfg['canary-weight-total'] ?? 0, 100);
    out.backends.set(`${ns}/${original.path.backend!.service!.name}/${portString(original.path.backend!)}`, {
      backend: pa.backend,
      weight: Math.min(Math.max(cfg['canary-weight'] ?? 0, 0), total),
      weightTotal: total,
      header: cfg['canary-by-header'] ?? '',
      headerValue: cfg['canary-by-header-value'] ?? '',
      headerPattern: cfg['canary-by-header-pattern'] ?? '',
      cookie: cfg['canary-by-cookie'] ?? '',
    });
  }
  return out;
}

/** Whether a backend has servers (a scratch load balancer built, then dropped; nothing reported). */
function hasServers(b: KubeBuild, ns: string, backend: IngressBackend, cfg: NginxConfig): boolean {
  const probe = `\u0000probe`;
  const name = buildService(b, ns, backend, cfg, probe, undefined, '', true);
  if (name === undefined) return false;
  const servers = (
    (b.services[probe] as { loadBalancer?: { servers?: unknown[] } }).loadBalancer?.servers ?? []
  ).length;
  delete b.services[probe];
  return servers > 0;
}

/** Traefik's buildService (and getBackendAddresses): the load balancer of one Ingress backend. */
function buildService(
  b: KubeBuild,
  ns: string,
  backend: IngressBackend,
  cfg: NginxConfig,
  name: string,
  transport: string | undefined,
  where: string,
  quiet = false,
): string | undefined {
  const svc = backend.service;
  if (svc?.name === undefined) return undefined;
  const scheme = backendScheme(cfg['backend-protocol']);
  const sticky = stickyOf(cfg, '');
  const before = b.issues.length;
  const built = b.loadBalancer(
    {
      name: svc.name,
      port: svc.port?.number !== undefined && svc.port.number !== 0 ? svc.port.number : svc.port?.name,
      scheme,
      sticky,
      serversTransport: undefined,
      // service-upstream: the Service's cluster IP instead of its endpoints.
      nativeLB: cfg['service-upstream'] === true,
    },
    ns,
    where,
    name,
  );
  if (quiet) b.issues.length = before;
  if (built === undefined) return undefined;
  const lb = (b.services[name] as { loadBalancer: Obj }).loadBalancer;
  // The transport is `<ns>-<ingress>`, not a reference to resolve in the namespace.
  if (transport !== undefined) lb['serversTransport'] = transport;
  const hashBy = cfg['upstream-hash-by'] ?? '';
  if (hashBy !== '') {
    // Traefik's buildService: the hrw strategy on the nginx key (NginxUpstreamHashBy).
    const hashOn = nginxHashKey(hashBy);
    if (hashOn === undefined) {
      if (!quiet)
        b.warn(
          where,
          `upstream-hash-by "${hashBy}": only $remote_addr, $http_*, $cookie_* and $arg_* are supported: ignored`,
        );
    } else {
      lb['strategy'] = 'hrw';
      lb['hashOn'] = hashOn;
    }
  }
  const fallback = cfg['default-backend'] ?? '';
  if ((lb['servers'] as unknown[]).length === 0 && fallback !== '' && fallback !== svc.name) {
    // Traefik's getBackendAddresses: the `default-backend` Service's endpoints stand in.
    const scratch = `${name}\u0000default-backend`;
    if (b.loadBalancer({ name: fallback, scheme, nativeLB: false }, ns, where, scratch) !== undefined) {
      lb['servers'] = (b.services[scratch] as { loadBalancer: Obj }).loadBalancer['servers'];
      delete b.services[scratch];
    }
  }
  return built;
}

/**
 * An nginx variable `upstream-hash-by` names, as the key our `hrw` hashes: the client address, a
 * request header (`$http_x_user`: `X-User`), a cookie or a query parameter; undefined otherwise.
 */
export function nginxHashKey(v: string): Obj | undefined {
  const t = v.trim();
  if (t === '$remote_addr' || t === '$binary_remote_addr') return { type: 'clientIP' };
  const m = /^\$(http|cookie|arg)_([A-Za-z0-9_-]+)$/.exec(t);
  if (m === null) return undefined;
  if (m[1] === 'http') return { type: 'header', name: m[2]!.replace(/_/g, '-') };
  return { type: m[1] === 'cookie' ? 'cookie' : 'query', name: m[2]! };
}

/** Traefik's buildSticky: `affinity: cookie` as a sticky cookie, ingress-nginx's defaults. */
export function stickyOf(cfg: NginxConfig, suffix: string): Obj | undefined {
  if (cfg.affinity !== 'cookie') return undefined;
  const cookie: Obj = {
    name: (cfg['session-cookie-name'] ?? 'INGRESSCOOKIE') + (suffix === '' ? '' : `-${suffix}`),
    secure: cfg['session-cookie-secure'] ?? false,
    httpOnly: true,
    sameSite: (cfg['session-cookie-samesite'] ?? '').toLowerCase(),
    maxAge: cfg['session-cookie-max-age'] ?? 0,
    // session-cookie-expires: seconds past each response (Traefik's buildSticky Expires).
    expires: cfg['session-cookie-expires'] ?? 0,
    path: cfg['session-cookie-path'] ?? '/',
  };
  if ((cfg['session-cookie-domain'] ?? '') !== '') cookie['domain'] = cfg['session-cookie-domain'];
  return { cookie };
}

/** Traefik's buildServersTransport: `<ns>-<ingress>`, timeouts and upstream TLS; undefined (reported) skips the Ingress. */
function serversTransport(
  b: KubeBuild,
  ns: string,
  name: string,
  cfg: NginxConfig,
  opts: NginxOptions,
  where: string,
): string | undefined {
  const key = normalize(`${ns}-${name}`);
  const st: Obj = {
    forwardingTimeouts: {
      dialTimeout: `${cfg['proxy-connect-timeout'] ?? opts.proxyConnectTimeout}s`,
      // Traefik v3.8 (#12716, its buildServersTransport): nginx's proxy_read_timeout and
      // proxy_send_timeout, per read and per write as nginx counts them (upstream/rw-deadlines.ts).
      readTimeout: `${cfg['proxy-read-timeout'] ?? opts.proxyReadTimeout ?? 60}s`,
      writeTimeout: `${cfg['proxy-send-timeout'] ?? opts.proxySendTimeout ?? 60}s`,
      idleConnTimeout: `${opts.upstreamKeepaliveTimeout}s`,
    },
  };
  const version = cfg['proxy-http-version'] ?? '';
  if (version === '1.1') st['disableHTTP2'] = true;
  else if (version === '1.0')
    b.warn(where, "proxy-http-version: value '1.0' is not supported, ignoring annotation");
  else if (version !== '')
    b.warn(where, `invalid proxy-http-version value: "${version}", ignoring annotation`);
  if (backendScheme(cfg['backend-protocol']) === 'https') {
    const serverName = cfg['proxy-ssl-name'] ?? cfg['proxy-ssl-server-name'] ?? '';
    if (serverName !== '') st['serverName'] = serverName;
    st['insecureSkipVerify'] = (cfg['proxy-ssl-verify'] ?? 'off').toLowerCase() !== 'on';
    const secret = cfg['proxy-ssl-secret'] ?? '';
    if (secret !== '') {
      const parts = secret.split('/');
      if (parts.length !== 2)
        return b.error(where, `malformed proxy SSL secret: ${secret}, expected namespace/name`);
      const [sns, sname] = parts as [string, string];
      if (!opts.allowCrossNamespaceResources && sns !== ns)
        return b.error(where, `cross-namespace proxy ssl secret is not allowed: secret ${sns}/${sname}`);
      const blocks = certBlocks(b, sns, sname, where);
      if (blocks === undefined) return undefined;
      if (blocks.ca !== undefined) st['rootCAs'] = [blocks.ca];
      if (blocks.cert !== undefined) st['certificates'] = [blocks.cert];
    }
  }
  b.serversTransports[key] = st;
  b.source('http/serversTransports', key, where);
  return key;
}

/** Traefik's certificateBlocks: `ca.crt`, and `tls.crt` with `tls.key`, of a Secret. */
function certBlocks(
  b: KubeBuild,
  ns: string,
  name: string,
  where: string,
): { ca?: string; cert?: { certFile: string; keyFile: string } } | undefined {
  if (b.secret(ns, name) === undefined) return b.error(where, `secret ${ns}/${name} not found`);
  const cert = b.secretValue(ns, name, 'tls.crt');
  const key = b.secretValue(ns, name, 'tls.key');
  const ca = b.secretValue(ns, name, 'ca.crt');
  if (cert === undefined && key === undefined && ca === undefined)
    return b.error(where, `secret ${ns}/${name} does not contain a keypair or CA certificate`);
  if (ca === '') return b.error(where, `secret ${ns}/${name} contains an empty CA certificate`);
  const out: { ca?: string; cert?: { certFile: string; keyFile: string } } = {};
  if (ca !== undefined) out.ca = ca;
  if (cert !== undefined && key !== undefined) {
    if (cert === '' || key === '')
      return b.error(where, `secret ${ns}/${name} contains an empty certificate or key`);
    out.cert = { certFile: cert, keyFile: key };
  }
  return out;
}

/** Traefik's buildClientAuthTLSOption: `auth-tls-secret` (namespace/name) and `auth-tls-verify-client`. */
function clientAuthOption(
  b: KubeBuild,
  ns: string,
  cfg: NginxConfig,
  opts: NginxOptions,
  where: string,
): { name: string; options: Obj } | undefined {
  const ref = cfg['auth-tls-secret'] ?? '';
  const i = ref.indexOf('/');
  if (i < 0) return b.error(where, 'auth-tls-secret is not in a correct namespace/name format');
  const sns = ref.slice(0, i);
  const sname = ref.slice(i + 1);
  if (sns === '' || sname === '') return b.error(where, 'auth-tls-secret has an empty namespace or name');
  if (!opts.allowCrossNamespaceResources && sns !== ns)
    return b.error(where, `cross-namespace auth-tls-secret is not supported: secret namespace "${sns}"`);
  const blocks = certBlocks(b, sns, sname, where);
  if (blocks === undefined) return undefined;
  if (blocks.ca === undefined)
    return b.error(where, `secret ${sns}/${sname} does not contain a CA certificate`);
  const type =
    { off: 'NoClientCert', optional: 'VerifyClientCertIfGiven', optional_no_ca: 'RequestClientCert' }[
      cfg['auth-tls-verify-client'] ?? 'on'
    ] ?? 'RequireAndVerifyClientCert';
  const kebab = type.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
  return {
    name: `${sns}-${sns.length}-${sname}-${sname.length}-${kebab}`,
    options: { clientAuth: { caFiles: [blocks.ca], clientAuthType: type } },
  };
}

/** Traefik's ssl-passthrough: a TCP router by SNI to the rule's `/` path (or the default backend). */
function passthrough(
  b: KubeBuild,
  ns: string,
  name: string,
  rule: IngressRule,
  defaultBackend: IngressBackend | undefined,
  tlsEps: readonly string[] | undefined,
  where: string,
): { key: string; backend: IngressBackend } | undefined {
  const host = rule.host ?? '';
  if (host === '') {
    b.error(where, 'cannot process ssl-passthrough for rule without host');
    return undefined;
  }
  const backend =
    rule.http !== undefined ? rule.http.paths?.find((p) => p.path === '/')?.backend : defaultBackend;
  if (backend?.service?.name === undefined) {
    b.error(where, `no backend found for ssl-passthrough for rule with host "${host}"`);
    return undefined;
  }
  const scratch = `\u0000passthrough`;
  const lbName = buildService(b, ns, backend, {}, scratch, undefined, where);
  if (lbName === undefined) return undefined;
  const servers = (
    (b.services[scratch] as { loadBalancer: Obj }).loadBalancer['servers'] as { url: string }[]
  ).map((s) => ({ address: s.url.replace(/^[a-z0-9]+:\/\//, '') }));
  delete b.services[scratch];
  const svcName = normalize(`${ns}-${backend.service.name}-${portString(backend)}`);
  b.tcp.services[svcName] = { loadBalancer: { servers } };
  const key = normalize(`${ns}-${name}-${host}`);
  b.tcp.routers[key] = {
    ...(tlsEps !== undefined ? { entryPoints: [...tlsEps] } : {}),
    rule: `HostSNI(${goQuote(host)})`,
    ruleSyntax: 'default',
    service: svcName,
    tls: { passthrough: true },
  };
  b.source('tcp/routers', key, where);
  b.source('tcp/services', svcName, where);
  return { key, backend };
}

/** Traefik's buildRule with %q: `Host("h")`, a `*.` wildcard as it is (Traefik v3.7's wildcard Host). */
function hostRule(host: string): string {
  return `Host(${goQuote(host)})`;
}

/**
 * Traefik's buildRule: host (and its server aliases, resolveAliases: those no Ingress has as a
 * host and no older Ingress claimed), then the path.
 */
export function buildRule(
  host: string,
  pa: IngressPath,
  cfg: NginxConfig,
  allHosts: ReadonlySet<string>,
  regexHosts: ReadonlySet<string>,
  claimed: ReadonlyMap<string, string>,
  ingressKey: string,
): string {
  const rules: string[] = [];
  if (host !== '') {
    const own = (a: string): boolean => {
      const l = a.toLowerCase();
      return !allHosts.has(l) && (claimed.get(l) ?? ingressKey) === ingressKey;
    };
    const names = [host, ...(cfg['server-alias'] ?? []).filter(own)];
    const parts = names.map(hostRule);
    rules.push(parts.length > 1 ? `(${parts.join(' || ')})` : parts[0]!);
  }
  const path = pa.path ?? '';
  if (path !== '') {
    const type = pa.pathType ?? 'Prefix';
    if (type === 'Exact') rules.push(`Path(${goQuote(path)})`);
    else if (type === 'Prefix' || type === 'ImplementationSpecific') {
      if (regexHosts.has(host)) rules.push(`PathRegexp(${goQuote(`(?i)^${path}`)})`);
      else rules.push(prefixRule(path));
    }
  }
  return rules.join(' && ');
}

/** Traefik's buildPrefixRule: whole segments (`/abc` matches `/abc` and `/abc/…`, not `/abcd`). */
function prefixRule(path: string): string {
  if (path === '/') return 'PathPrefix("/")';
  const bare = path.replace(/\/$/, '');
  return `(Path(${goQuote(bare)}) || PathPrefix(${goQuote(`${bare}/`)}))`;
}

/** Traefik's canaryBackend.RequiresNonCanaryRouter. */
function needsNonCanaryRouter(c: Canary): boolean {
  return (
    c.weight > 0 && ((c.header !== '' && c.headerValue === '' && c.headerPattern === '') || c.cookie !== '')
  );
}

/** Traefik's AppendCanaryRule. */
function canaryRule(c: Canary, rule: string): string {
  const rules: string[] = [];
  if (c.header !== '') {
    if (c.headerValue === '' && c.headerPattern !== '')
      rules.push(`HeaderRegexp(${goQuote(c.header)}, ${goQuote(c.headerPattern)})`);
    else if (c.headerValue !== '') rules.push(`Header(${goQuote(c.header)}, ${goQuote(c.headerValue)})`);
    else rules.push(`Header(${goQuote(c.header)}, "always")`);
  }
  if (c.cookie !== '') {
    let cookie = `HeaderRegexp("Cookie", ${goQuote(`(^|;\\s*)${quoteMeta(c.cookie)}=always(;|$)`)})`;
    if (c.header !== '' && c.headerValue === '' && c.headerPattern === '')
      cookie = `(${cookie} && !Header(${goQuote(c.header)}, "never"))`;
    rules.push(cookie);
  }
  return `(${rule}) && (${rules.join(' || ')})`;
}

/** Traefik's AppendNonCanaryRule. */
function nonCanaryRule(c: Canary, rule: string): string {
  const rules: string[] = [];
  if (c.header !== '' && c.headerValue === '' && c.headerPattern === '')
    rules.push(`Header(${goQuote(c.header)}, "never")`);
  if (c.cookie !== '')
    rules.push(`HeaderRegexp("Cookie", ${goQuote(`(^|;\\s*)${quoteMeta(c.cookie)}=never(;|$)`)})`);
  return `(${rule}) && (${rules.join(' || ')})`;
}

/**
 * Traefik's build (pkg/provider/kubernetes/ingress-nginx/build.go, `serverSnippets`): a host's
 * server-snippet is the first one seen among its handled, non-canary Ingresses, which come oldest
 * first (byCreation), and every location of that host gets it, whichever Ingress it comes from
 * (nginx has one server block per host).
 */
function firstServerSnippets(
  ingresses: readonly { ing: KubeObject; cfg: NginxConfig; spec: IngressSpec }[],
): Map<string, string> {
  const out = new Map<string, string>();
  for (const { cfg, spec } of ingresses) {
    const snippet = cfg['server-snippet'] ?? '';
    if (snippet === '') continue;
    for (const rule of spec.rules ?? []) {
      const host = rule.host ?? '';
      if (!out.has(host)) out.set(host, snippet);
    }
  }
  return out;
}

function created(o: KubeObject): number {
  const t = Date.parse(String((o.metadata as { creationTimestamp?: string }).creationTimestamp ?? ''));
  return Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t;
}

/**
 * Traefik's build.go order (sort.SliceStable): creationTimestamp ascending, equal times by
 * namespace/name descending, as ingress-nginx.
 */
function byCreation(a: KubeObject, b: KubeObject): number {
  const ta = created(a);
  const tb = created(b);
  if (ta !== tb) return ta < tb ? -1 : 1;
  const ka = `${a.metadata.namespace}/${a.metadata.name}`;
  const kb = `${b.metadata.namespace}/${b.metadata.name}`;
  return ka > kb ? -1 : ka < kb ? 1 : 0;
}
