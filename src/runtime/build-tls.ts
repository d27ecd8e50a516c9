import { readFileSync } from 'node:fs';
import type { DynamicConfig, RouterConfig } from '../config/dynamic/schema.ts';
import type { ConfigIssue } from '../config/issues.ts';
import { providerOf } from '../core/qualified-name.ts';
import { hostMatcherValues, parseRuleSyntax } from '../router/index.ts';
import {
  type CertInput,
  CertStore,
  type CompiledTlsOptions,
  certificatesFromConfig,
  compileTlsOptionsSets,
  type GeneratedDefaultCertificate,
  type RouterTlsNeed,
  TlsRouter,
  type TrustedRoots,
} from '../tls/index.ts';
import { httpsEntryPoints } from './internal-routes.ts';

/** What the static configuration says about TLS, given to every build. */
export interface TlsBuildOptions {
  /** TLS entry points and their `http.tls` (options name, resolver, domains). */
  readonly entryPoints: ReadonlyMap<string, { readonly options?: string | undefined }>;
  /** The process's generated default certificate (made once, reused by every build). */
  readonly generated: GeneratedDefaultCertificate;
  /** Roots the chains of configured certificate files must reach (else a warning). */
  readonly roots?: TrustedRoots;
  /** Certificates obtained by ACME resolvers, served like configured ones. */
  readonly extraCertificates?: () => readonly CertInput[];
  /**
   * Routers left out because their TLS options do not exist (build-per-object.ts), by name:
   * their hosts keep that name, which matches no options set, so their TLS handshakes are
   * refused, as Traefik adds a "special closing route" for them (pkg/server/router/tcp
   * manager.go buildEntryPointHandler), instead of getting the default options.
   */
  readonly brokenOptions?: ReadonlyMap<string, RouterConfig>;
  /**
   * Static `core.strictTLSOptions` (Traefik v3.8, traefik/traefik#13639): the routers of an entry
   * point asking different TLS options for one host are disabled with an error, where otherwise
   * that host falls back to the `default` options with a warning.
   */
  readonly strictOptions?: boolean;
  /**
   * `buildTls` itself, handed in by the composition root: build-snapshot imports this module as
   * types only, so a proxy without TLS never loads node:tls and the certificate code.
   */
  readonly build: typeof buildTls;
}

/** A snapshot's TLS state: certificates by SNI, the options sets, and the options per SNI. */
export interface SnapshotTls {
  readonly store: CertStore;
  readonly options: ReadonlyMap<string, CompiledTlsOptions>;
  /**
   * The SNI → options decisions of one entry point: Traefik resolves them per entry point (one
   * TLS listener each, pkg/server/router/tcp/manager.go buildEntryPointHandler), so the same
   * host may have other options on another entry point, and routers only conflict with the
   * routers of their own entry points.
   */
  routerFor(entryPoint: string): TlsRouter;
}

/**
 * `tls.stores.default.defaultGeneratedCert`: its resolver obtains a certificate for `domain`
 * (main and sans, main.ts ensure), and the default certificate is the store's certificate for
 * all those names, whoever provided it (that one, a file's, another resolver's), as Traefik's
 * pkg/tls/tlsmanager.go getDefaultCertificate finds it (sanitizeDomains: lower case, no trailing
 * dot; CertificateStore.GetCertificate); until there is one, the generated one serves. Beside
 * `defaultCertificate` it is ignored with Traefik's warning (pkg/provider/acme/provider.go
 * watchNewDomains: "cannot be defined at the same time", defaultCertificate has precedence); a
 * resolver that does not exist orders nothing, and the domains are looked up all the same
 * (getDefaultCertificate reads them whatever the resolver): a warning.
 */
function acmeDefault(config: DynamicConfig): string[] | undefined {
  const store = config.tls.stores['default'];
  const g = store?.defaultGeneratedCert;
  if (g === undefined) return undefined;
  // Both warned about by validate.ts (config/dynamic/tls-warnings.ts defaultGeneratedCertWarnings).
  if (store?.defaultCertificate !== undefined) return undefined;
  return [g.domain.main, ...g.domain.sans].map((d) => d.trim().toLowerCase().replace(/\.$/, ''));
}

/**
 * Certificates, options and the SNI → options map for one configuration. Reading a file that is
 * missing, a key that does not match its certificate, an unknown options name: issues with
 * their paths (errors reject the configuration, as for any other object).
 */
export function buildTls(
  config: DynamicConfig,
  opts: TlsBuildOptions,
  issues: ConfigIssue[],
  read: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): SnapshotTls {
  const compiled = compileTlsOptionsSets(config.tls, read);
  issues.push(...compiled.issues);
  const certs = certificatesFromConfig(config.tls, read);
  issues.push(...certs.issues);
  const all = [...certs.certs, ...(opts.extraCertificates?.() ?? [])];
  const defaultFor = acmeDefault(config);
  const built = CertStore.build(all, certs.defaultCert, {
    generated: opts.generated,
    ...(defaultFor === undefined ? {} : { defaultFor }),
    ...(opts.roots === undefined ? {} : { roots: opts.roots }),
  });
  issues.push(...built.issues);

  // Routers naming no entry point are on every one; the others on theirs only.
  const everywhere = new Map<string, RouterTlsNeed>();
  const byEntryPoint = new Map<string, Map<string, RouterTlsNeed>>();
  const broken = opts.brokenOptions ?? new Map<string, RouterConfig>();
  const strict = opts.strictOptions === true;
  for (const [name, r] of [...Object.entries(config.http.routers), ...broken]) {
    const eps = httpsEntryPoints(r, opts.entryPoints);
    if (r.tls === undefined && eps.length === 0) continue;
    let options = r.tls?.options;
    // A router's own `tls` block is whole: Traefik's applyModel gives the entry point's `http.tls`
    // only to routers without one (pkg/server/aggregator.go), so no key falls back to it. Only a
    // build without the entry point model (its tests) still reaches here with no `tls`.
    if (r.tls === undefined) {
      for (const ep of eps) {
        const o = opts.entryPoints.get(ep)?.options;
        if (o !== undefined) options = o;
      }
    }
    let qualified = options ?? 'default';
    if (qualified !== 'default' && !qualified.includes('@')) qualified = `${qualified}@${providerOf(name)}`;
    if (!compiled.options.has(qualified) && !broken.has(name)) {
      issues.push({
        severity: 'error',
        // Unusable: the set exists but could not be built (its own error says why).
        message: `${Object.hasOwn(config.tls.options, qualified) ? 'unusable' : 'unknown'} TLS options \`${options ?? qualified}\``,
        path: ['http', 'routers', name, 'tls', 'options'],
      });
      continue;
    }
    // Traefik maps options to the rule's Host names only (httpmuxer.ParseDomains: every Host,
    // under `||` too, but not a negated one); `tls.domains` only names the certificates a
    // resolver obtains.
    const parsed = parseRuleSyntax(r.rule, r.ruleSyntax);
    const need = { options: qualified, domains: parsed.ok ? hostMatcherValues(parsed.ast) : [] };
    if (eps.length === 0) everywhere.set(name, need);
    else {
      for (const ep of eps) {
        let mine = byEntryPoint.get(ep);
        if (mine === undefined) {
          mine = new Map();
          byEntryPoint.set(ep, mine);
        }
        mine.set(name, need);
      }
    }
  }
  const routers = new Map<string, TlsRouter>();
  for (const [ep, mine] of [...byEntryPoint].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const tr = TlsRouter.build(new Map([...everywhere, ...mine]), ep, strict);
    routers.set(ep, tr.router);
    issues.push(...tr.issues);
  }
  // Entry points no router names: the routers of every entry point. Their conflicts are also
  // those of each named entry point (more routers cannot end one), so reported once from there.
  const rest = TlsRouter.build(everywhere, undefined, strict);
  if (byEntryPoint.size === 0) issues.push(...rest.issues);
  return {
    store: built.store,
    options: compiled.options,
    routerFor: (entryPoint) => routers.get(entryPoint) ?? rest.router,
  };
}
