import { composeEscapeHint, hashKind } from '../../core/htpasswd-kind.ts';
import { providerOf } from '../../core/qualified-name.ts';
import { INTERNAL_PROVIDER, internalServiceProblem } from '../internal-services.ts';
import { type ConfigIssue, type ConfigPath, issue, loggedAsError } from '../issues.ts';
import { type Locator, noLocation, type Target } from '../yaml-source.ts';
import { type DisabledObject, leftOut } from './disabled.ts';
import { healthCheckPathIsUrl } from './health-check-path.ts';
import type { ObjectRef } from './parse.ts';
import { checkReferenceGraph } from './reference-graph.ts';
import { type DynamicConfig, HTTP_SECTIONS, type HttpSection } from './schema.ts';
import { serverUrlPath, unusableServerUrl } from './server-url.ts';
import { serviceMiddlewareReferences } from './service-references.ts';
import type { RouterTlsDomainConfig } from './tls.ts';
import { defaultGeneratedCertWarnings, routerTlsDomainWarnings, tlsSectionWarnings } from './tls-warnings.ts';
import { knownEntryPoints, validateLayer4 } from './validate-l4.ts';
import { checkServiceGraph } from './validate-services.ts';

/**
 * Checks a rule's grammar. The router module owns the grammar (`compileRule`); config may not
 * import it (dependency direction), so the caller passes it in.
 */
export type RuleChecker = (
  rule: string,
  /** `tcp`: a TCP router's rule (HostSNI, ClientIP, ALPN…); absent: an HTTP rule. */
  language?: 'tcp',
  /**
   * The router's `ruleSyntax`, else ValidateOptions.defaultRuleSyntax. Absent (a provider that
   * does not know the static `core.defaultRuleSyntax`): a rule valid in either syntax passes, and
   * the build (which knows it) disables the router whose rule its syntax refuses.
   */
  syntax?: string,
) => { message: string; offset: number } | undefined;

export interface ValidateOptions {
  readonly checkRule?: RuleChecker;
  /**
   * The syntax of the routers without a `ruleSyntax` of their own, as the build reads them: the
   * static `core.defaultRuleSyntax` (Traefik's applyModel gives it to them), `v3` without `core`.
   * Absent (a provider that does not know it): a rule valid in either syntax passes.
   */
  readonly defaultRuleSyntax?: string;
  /**
   * The static `core.defaultRuleSyntax` (`v3` without it), for warnings only, where
   * `defaultRuleSyntax` is not given (the providers but the file one: their rules are checked in
   * either syntax, above): a v2 placeholder in a rule read as v3.
   */
  readonly hintRuleSyntax?: string;
  /** Checks a circuitBreaker expression (the resilience module owns that grammar). */
  readonly checkBreakerExpression?: RuleChecker;
  /** The provider these objects belong to; `name@<provider>` refers to them. Default `file`. */
  readonly provider?: string;
  /** Other providers whose names may be referred to (`x@docker`); such references are not checked here. */
  readonly knownProviders?: readonly string[];
  /** When given, a router's entry points must be among these. */
  readonly entryPoints?: readonly string[];
  /**
   * The internal services the static configuration enables (`api` for `api@internal`): a
   * router's `service` may name them. Default: none.
   */
  readonly internalServices?: ReadonlySet<string>;
  /**
   * When given, a router's `tls.certResolver` must be one of these (the static configuration's
   * `certificatesResolvers`).
   */
  readonly certResolvers?: readonly string[];
  readonly locate?: Locator;
  /** Objects already found invalid (by the schema or the merge). */
  readonly disabled?: readonly ObjectRef[];
}

export interface ValidatedDynamic {
  /** The usable part: every object with an error, and everything that depends on it, removed. */
  readonly config: DynamicConfig;
  readonly issues: ConfigIssue[];
  /**
   * Every object left out, `opts.disabled` and those these checks left out, each of its kind
   * (disabled.ts leftOut): the one list of every provider, for the admin API.
   */
  readonly disabled: DisabledObject[];
}

/**
 * Traefik's provider names (pkg/provider/*) that we have too, with the static key that enables
 * each (providers/registry.ts): a reference to one that is not enabled says which key to set.
 */
const OUR_PROVIDERS: ReadonlyMap<string, string> = new Map([
  ['file', 'file'],
  ['docker', 'docker'],
  ['swarm', 'swarm'],
  ['kubernetescrd', 'kubernetesCRD'],
  ['kubernetes', 'kubernetesIngress'],
  ['kubernetesgateway', 'kubernetesGateway'],
  ['kubernetesingressnginx', 'kubernetesIngressNGINX'],
  ['knative', 'knative'],
  ['consulcatalog', 'consulCatalog'],
  ['nomad', 'nomad'],
  ['ecs', 'ecs'],
  ['consul', 'consul'],
  ['etcd', 'etcd'],
  ['zookeeper', 'zooKeeper'],
  ['redis', 'redis'],
  ['http', 'http'],
  ['rest', 'rest'],
]);

/** Traefik's provider names we lack: a reference to one names a missing feature, not a typo. */
const OTHER_TRAEFIK_PROVIDERS = new Set(['plugin']);

export type Ref =
  | { kind: 'local'; name: string }
  | { kind: 'external' }
  | { kind: 'internal'; name: string }
  | { kind: 'unknownProvider'; provider: string };

/**
 * Semantic checks across objects: references (router → service, middlewares; chain → middlewares;
 * service → serversTransport) exist and are usable, chains have no cycles, rules compile. An object
 * with an error is disabled, and so is everything that needs it, each with its own issue.
 */
export function validateDynamic(config: DynamicConfig, opts: ValidateOptions = {}): ValidatedDynamic {
  const provider = opts.provider ?? 'file';
  const known = new Set(opts.knownProviders ?? []);
  const internal = opts.internalServices ?? new Set<string>();
  const locate = opts.locate ?? noLocation;
  const issues: ConfigIssue[] = [];
  const broken = new Set<string>(
    (opts.disabled ?? []).filter((r) => r.kind === undefined).map((r) => `${r.section}/${r.name}`),
  );
  const disabled = new Set<string>();
  const http = config.http;

  const report = (
    severity: ConfigIssue['severity'],
    message: string,
    path: ConfigPath,
    target: Target = 'value',
    logAsError = false,
  ) => {
    const { exact: _, ...where } = locate(path, target);
    const found = issue(severity, message, path, where);
    issues.push(logAsError ? loggedAsError(found) : found);
  };
  /**
   * `name` as referred to by `owner` (an object of this provider): one without `@` is read in the
   * provider the owner's name gives, as Traefik's AddInContext and GetQualifiedName do: its own,
   * or for an owner whose name holds `@` (`r@x`), `x`.
   */
  const resolveName = (written: string, owner?: string): Ref => {
    const name =
      owner?.includes('@') === true && !written.includes('@') ? `${written}@${providerOf(owner)}` : written;
    const at = name.lastIndexOf('@');
    if (at === -1) return { kind: 'local', name };
    const p = name.slice(at + 1);
    if (p === provider) return { kind: 'local', name: name.slice(0, at) };
    if (p === INTERNAL_PROVIDER) return { kind: 'internal', name: name.slice(0, at) };
    return known.has(p) ? { kind: 'external' } : { kind: 'unknownProvider', provider: p };
  };
  /**
   * Reports why a reference cannot be used, or returns true. Only a router's service may be an
   * internal one: it is served through the router's own chain (admin/ checks who may use it).
   */
  const usable = (
    section: HttpSection,
    what: string,
    name: string,
    path: ConfigPath,
    routerService = false,
  ): boolean => {
    const ref = resolveName(name, path[0] === 'http' ? String(path[2]) : undefined);
    if (ref.kind === 'external') return true;
    if (ref.kind === 'internal') {
      // Traefik's internal provider defines the `default` serversTransport (the static one).
      if (section === 'serversTransports' && ref.name === 'default') return true;
      const problem =
        section !== 'services'
          ? `${what} \`${name}\` does not exist (the internal provider has services only)`
          : !routerService
            ? `service \`${name}\` is internal: only a router may name it as its service`
            : internalServiceProblem(ref.name, internal);
      if (problem === undefined) return true;
      report('error', problem, path);
      return false;
    }
    if (ref.kind === 'unknownProvider') {
      // Nomad's providers of `namespaces` are `nomad-<namespace>` (Traefik's BuildProviders).
      const key =
        OUR_PROVIDERS.get(ref.provider) ?? (ref.provider.startsWith('nomad-') ? 'nomad' : undefined);
      const why =
        key !== undefined
          ? `the \`${ref.provider}\` provider is not enabled (\`providers.${key}\` in the static configuration)`
          : OTHER_TRAEFIK_PROVIDERS.has(ref.provider)
            ? `the \`${ref.provider}\` provider is not supported yet`
            : `provider \`${ref.provider}\` is not available`;
      report('error', `${what} \`${name}\`: ${why}`, path);
      return false;
    }
    const key = `${section}/${ref.name}`;
    if (disabled.has(key) || broken.has(key)) {
      report('error', `${what} \`${name}\` is disabled because of its own errors`, path);
      return false;
    }
    if (!Object.hasOwn(http[section], ref.name)) {
      report('error', `${what} \`${name}\` does not exist`, path);
      return false;
    }
    return true;
  };

  // Traefik's aggregator (pkg/server/aggregator.go mergeConfiguration) names every object
  // `name@provider`, `@` or not in the name: `r@x` is `r@x@file`, which only that full name
  // reaches, and its own references without `@` are read in provider `x` (AddInContext).
  for (const section of HTTP_SECTIONS) {
    for (const name of Object.keys(http[section])) {
      if (!name.includes('@')) continue;
      report(
        'warning',
        `a name holding \`@\` is \`${name}@${provider}\` across providers, as in Traefik: only that full name refers to it, and its own references without \`@\` are read in provider \`${providerOf(name)}\``,
        ['http', section, name],
        'key',
      );
    }
  }

  for (const [name, svc] of Object.entries(http.services)) {
    if (disabled.has(`services/${name}`) || svc.kind !== 'loadBalancer') continue;
    const base = ['http', 'services', name, 'loadBalancer'];
    const lb = svc.loadBalancer;
    if (lb.serversTransport !== undefined) {
      const ok = usable('serversTransports', 'serversTransport', lb.serversTransport, [
        ...base,
        'serversTransport',
      ]);
      if (!ok) disabled.add(`services/${name}`);
    }
    lb.servers.forEach((s, i) => {
      const at = [...base, 'servers', i, 'url'];
      const unusable = unusableServerUrl(s.url);
      if (unusable !== undefined) {
        report(
          'warning',
          `no request can be sent to this URL: the server answers every request 500 (${unusable}), as in Traefik`,
          at,
        );
        return;
      }
      const { search, hash } = new URL(s.url);
      if (!s.preservePath && serverUrlPath(s.url) !== '') {
        report(
          'warning',
          "the URL's path is not forwarded: requests keep their own path unless `preservePath: true` (as in Traefik)",
          at,
        );
      }
      if (search !== '' || hash !== '')
        report('warning', "the URL's query and fragment are never forwarded (as in Traefik)", at);
    });
    if (lb.servers.length === 0)
      report('warning', 'the service has no servers: its requests get 503', [...base, 'servers']);
    else if (lb.servers.every((s) => s.weight === 0)) {
      report('warning', 'every server has weight 0: the service gets no traffic', [...base, 'servers']);
    }
    const hc = lb.healthCheck;
    if (hc !== undefined) {
      // Traefik loads these and uses its defaults instead, logging an error
      // (pkg/healthcheck/healthcheck.go NewServiceHealthChecker).
      const zeroOrLess: [string, number | undefined, string][] = [
        ['interval', hc.interval, '30s'],
        ['unhealthyInterval', hc.unhealthyInterval, '30s'],
        ['timeout', hc.timeout, '5s'],
      ];
      for (const [key, value, fallback] of zeroOrLess) {
        if (value !== undefined && value <= 0) {
          report('warning', `${key} is not positive: the default ${fallback} is used (as in Traefik)`, [
            ...base,
            'healthCheck',
            key,
          ]);
        }
      }
      if (hc.path !== undefined && hc.mode !== 'tcp' && healthCheckPathIsUrl(hc.path)) {
        report(
          'warning',
          'path must be a path (with an optional query), not a URL: every check fails and the servers are down (as in Traefik v3.6.8)',
          [...base, 'healthCheck', 'path'],
        );
      }
    }
    if (lb.strategy === 'hrw' && lb.sticky !== undefined) {
      report('warning', 'sticky cookies override hrw hashing for clients that send the cookie', [
        ...base,
        'sticky',
      ]);
    }
  }
  if (opts.checkBreakerExpression !== undefined) {
    for (const [name, mw] of Object.entries(http.middlewares)) {
      if (mw.type !== 'circuitBreaker') continue;
      const e = opts.checkBreakerExpression(mw.config.expression);
      if (e === undefined) continue;
      const path = ['http', 'middlewares', name, 'circuitBreaker', 'expression'];
      const at = locate(path, 'value', e.offset);
      const suffix = at.exact ? '' : ` (at offset ${e.offset} of the expression)`;
      const { exact: _, ...where } = at;
      issues.push(issue('error', `invalid expression: ${e.message}${suffix}`, path, where));
      disabled.add(`middlewares/${name}`);
    }
  }

  checkChains(http, disabled, broken, resolveName, usable, report);

  // Service middlewares (Traefik v3.7): each must exist and be usable, or the service is
  // disabled (Traefik's BuildHTTP fails on its wrapMiddlewares), and with it every service and
  // router above it (the graph's fixpoint below). Checked after the chains, whose members they
  // may be.
  for (const [name, svc] of Object.entries(http.services)) {
    if (disabled.has(`services/${name}`)) continue;
    let ok = true;
    for (const ref of serviceMiddlewareReferences(svc)) {
      if (!usable('middlewares', 'middleware', ref.name, ['http', 'services', name, ...ref.path])) ok = false;
    }
    if (!ok) disabled.add(`services/${name}`);
  }
  checkServiceGraph(http, disabled, broken, resolveName, usable, report, provider);

  for (const [name, mw] of Object.entries(http.middlewares)) {
    if (mw.type === 'inFlightReq' && mw.config.amount <= 0) {
      report(
        'warning',
        `amount ${mw.config.amount} lets no request in: every one is answered 429, as in Traefik`,
        ['http', 'middlewares', name, 'inFlightReq', 'amount'],
      );
    }
  }
  for (const [name, mw] of Object.entries(http.middlewares)) {
    if (mw.type !== 'basicAuth') continue;
    // Traefik loads any `name:hash` line and checks it with go-http-auth's CheckSecret, which
    // knows bcrypt, MD5-crypt and {SHA} only: a plain-text password or a SHA-crypt hash (`$5$`,
    // `$6$`, what `openssl passwd` and `mkpasswd` make by default) is loaded and never matches.
    // The middleware logs it at start; a warning here says so before (the users file is read
    // by the middleware only).
    mw.config.users.forEach((line, i) => {
      const colon = line.indexOf(':');
      const hash = line.slice(colon + 1);
      if (hashKind(hash) !== 'unsupported') return;
      report(
        'warning',
        `user \`${line.slice(0, colon)}\` never authenticates, as in Traefik: its password is not a hash Traefik checks (bcrypt \`$2y$\`, \`$apr1$\`, \`$1$\` or \`{SHA}\`, as \`htpasswd -nB user\` makes)${composeEscapeHint(hash)}`,
        ['http', 'middlewares', name, 'basicAuth', 'users', i],
      );
    });
  }
  for (const [name, mw] of Object.entries(config.tcp?.middlewares ?? {})) {
    if (mw.type === 'inFlightConn' && mw.config.amount <= 0) {
      report(
        'warning',
        `amount ${mw.config.amount} lets no connection in: every one is closed, as in Traefik`,
        ['tcp', 'middlewares', name, 'inFlightConn', 'amount'],
      );
    }
  }

  for (const [name, router] of Object.entries(http.routers)) {
    const key = `routers/${name}`;
    if (disabled.has(key)) continue;
    const base = ['http', 'routers', name];
    let ok = true;
    // Traefik's mergeConfiguration (pkg/server/aggregator.go): the router option is deprecated,
    // warned about for every value but `default`, which providers' own routers carry.
    const syntax = router.ruleSyntax;
    if (syntax !== undefined && syntax !== '' && syntax !== 'default')
      report(
        'warning',
        "Router's `ruleSyntax` option is deprecated, please remove any usage of this option",
        [...base, 'ruleSyntax'],
      );
    const ruleError = opts.checkRule?.(router.rule, undefined, router.ruleSyntax || opts.defaultRuleSyntax);
    if (ruleError !== undefined) {
      const path = [...base, 'rule'];
      const at = locate(path, 'value', ruleError.offset);
      const suffix = at.exact ? '' : ` (at offset ${ruleError.offset} of the rule)`;
      const { exact: _, ...where } = at;
      issues.push(issue('error', `invalid rule: ${ruleError.message}${suffix}`, path, where));
      ok = false;
    }
    const effective =
      syntax !== undefined && syntax !== '' && syntax !== 'default'
        ? syntax
        : (opts.defaultRuleSyntax ?? opts.hintRuleSyntax);
    const placeholder =
      ruleError === undefined && effective === 'v3' ? v2Placeholder(router.rule) : undefined;
    if (placeholder !== undefined) {
      // Traefik v3 says nothing: its HostRegexp compiles `{sub:[a-z]+}` as a regexp with literal
      // braces and Host/Path compare the text, so the router never matches (the v2 to v3
      // migration guide's "rule syntax" step). A v2 file loaded as v3 would 404 without a word.
      report(
        'warning',
        `\`${placeholder}\` is Traefik v2's placeholder syntax: v3 reads it literally, so this rule never matches such a request; write a regular expression (HostRegexp(\`^[a-z]+\\.example\\.com$\`), PathRegexp), or read the rules as v2 (core.defaultRuleSyntax: v2)`,
        [...base, 'rule'],
      );
    }
    if (opts.entryPoints !== undefined) {
      if (!knownEntryPoints(router.entryPoints, new Set(opts.entryPoints), base, report)) ok = false;
    }
    const resolver = router.tls?.certResolver;
    if (opts.certResolvers !== undefined && resolver !== undefined && resolver !== '') {
      if (!opts.certResolvers.includes(resolver)) {
        // Traefik logs "Router uses a nonexistent certificate resolver" (cmd/traefik/traefik.go
        // setupServer, a configuration listener) and serves the router with the store's
        // certificates (the default one when none covers its names): a warning, router served.
        // Logged at ERROR, as Traefik's log.Error() (ConfigIssue.logAs).
        report(
          'warning',
          `certificate resolver \`${resolver}\` does not exist (certificatesResolvers of the static configuration): nothing is ordered, and the router is served with the store's certificates, as in Traefik`,
          [...base, 'tls', 'certResolver'],
          'value',
          true,
        );
      }
    }
    router.middlewares.forEach((m, i) => {
      if (!usable('middlewares', 'middleware', m, [...base, 'middlewares', i])) ok = false;
    });
    if (
      router.service !== undefined &&
      !usable('services', 'service', router.service, [...base, 'service'], true)
    )
      ok = false;
    // Multi-layer routing (Traefik's ParseRouterTree, pkg/server/router/router.go): a child has
    // only a rule, middlewares and a service (or children). The tree as a whole (parents in other
    // providers, cycles, routers no root reaches) is checked once merged (runtime/router-tree.ts).
    if (router.parentRefs !== undefined) {
      router.parentRefs.forEach((p, i) => {
        if (!usable('routers', 'parent router', p, [...base, 'parentRefs', i])) ok = false;
      });
      for (const k of ['tls', 'observability', 'entryPoints'] as const) {
        if (router[k] === undefined) continue;
        report('error', `a child router (with parentRefs) cannot have ${k}`, [...base, k], 'key');
        ok = false;
      }
    }
    if (!ok) disabled.add(key);
  }

  // tcp and udp: their own references and rules (validate-l4.ts).
  const l4 = validateLayer4(prune(config, disabled), opts, report, resolveName);
  for (const w of tlsSectionWarnings(config.tls)) report(w.severity, w.message, w.path);
  for (const w of defaultGeneratedCertWarnings(config.tls, opts.certResolvers))
    report(w.severity, w.message, w.path, 'key');
  const routerDomains: [
    string,
    Readonly<Record<string, { tls?: { domains: RouterTlsDomainConfig[] } | undefined }>>,
  ][] = [
    ['http', config.http.routers],
    ['tcp', config.tcp?.routers ?? {}],
  ];
  for (const [section, routers] of routerDomains)
    for (const [name, r] of Object.entries(routers))
      for (const w of routerTlsDomainWarnings(r.tls?.domains ?? [], [
        section,
        'routers',
        name,
        'tls',
        'domains',
      ]))
        report(w.severity, w.message, w.path);
  return { config: l4, issues, disabled: leftOut(opts.disabled ?? [], config, l4) };
}

/** Chains: missing members, cycles, and members that are themselves disabled, to a fixpoint. */
function checkChains(
  http: DynamicConfig['http'],
  disabled: Set<string>,
  broken: ReadonlySet<string>,
  resolveName: (name: string, owner?: string) => Ref,
  usable: (section: HttpSection, what: string, name: string, path: ConfigPath) => boolean,
  report: (severity: ConfigIssue['severity'], message: string, path: ConfigPath) => void,
): void {
  const chainPath = (name: string): ConfigPath => ['http', 'middlewares', name, 'chain', 'middlewares'];
  const isOff = (name: string): boolean =>
    disabled.has(`middlewares/${name}`) || broken.has(`middlewares/${name}`);
  /** Local members of each usable chain, with their index in the list. */
  const members = new Map<string, { name: string; index: number }[]>();
  for (const [name, mw] of Object.entries(http.middlewares)) {
    if (mw.type !== 'chain' || disabled.has(`middlewares/${name}`)) continue;
    const local: { name: string; index: number }[] = [];
    let ok = true;
    mw.config.middlewares.forEach((m, index) => {
      const ref = resolveName(m, name);
      // A disabled member is reported by the fixpoint below, after the cycle check.
      if (ref.kind === 'local' && isOff(ref.name)) local.push({ name: ref.name, index });
      else if (!usable('middlewares', 'middleware', m, [...chainPath(name), index])) ok = false;
      else if (ref.kind === 'local') local.push({ name: ref.name, index });
    });
    if (ok) members.set(name, local);
    else disabled.add(`middlewares/${name}`);
  }

  checkReferenceGraph({
    edges: new Map(
      [...members].map(([name, local]) => [
        name,
        local.map((m) => ({ name: m.name, path: [...chainPath(name), m.index] })),
      ]),
    ),
    isOff,
    disable: (name) => disabled.add(`middlewares/${name}`),
    cycleIssue: (c, cycle, i) => ({
      path: chainPath(c),
      message: `chain cycle: ${[...cycle.slice(i), ...cycle.slice(0, i), c].join(' → ')}`,
    }),
    what: 'middleware',
    report,
  });
}

function prune(config: DynamicConfig, disabled: ReadonlySet<string>): DynamicConfig {
  if (disabled.size === 0) return config;
  const keep = <T>(section: HttpSection, objects: Record<string, T>): Record<string, T> =>
    Object.fromEntries(Object.entries(objects).filter(([name]) => !disabled.has(`${section}/${name}`)));
  const h = config.http;
  return {
    ...config,
    http: {
      routers: keep('routers', h.routers),
      services: keep('services', h.services),
      middlewares: keep('middlewares', h.middlewares),
      serversTransports: keep('serversTransports', h.serversTransports),
    },
  };
}

/**
 * A Traefik v2 `{name}` / `{name:regexp}` placeholder in the first value of a Host, HostRegexp,
 * Path or PathPrefix matcher (gorilla/mux's variables, which v2 rules had), or undefined. A
 * `${NAME}` is a shell or envsubst variable left unrendered, not one.
 */
function v2Placeholder(rule: string): string | undefined {
  const m =
    /\b(?:HostRegexp|Host|PathPrefix|Path)\s*\(\s*[`"][^`"]*?(?<!\$)(\{[A-Za-z_][A-Za-z0-9_]*(?::(?:[^{}`"]|\{[^{}`"]*\})*)?\})/.exec(
      rule,
    );
  return m?.[1];
}
