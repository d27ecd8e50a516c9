import { readFileSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { z } from 'zod';
import { goPathError, isMissingFile } from '../../core/go-path-error.ts';
import { DYNAMIC_SECTIONS } from '../dynamic/schema.ts';
import { goHttpCodeRanges } from '../dynamic/status-range.ts';
import { routerTlsDomainWarnings } from '../dynamic/tls-warnings.ts';
import { type ConfigIssue, type ConfigPath, issue, loggedAsError, sortIssues } from '../issues.ts';
import { matchesPath, normalizeConfig } from '../normalize.ts';
import { isPlainObject } from '../schema-helpers.ts';
import { parseConfigText } from '../source.ts';
import { type Locator, noLocation } from '../yaml-source.ts';
import { fromZodIssues } from '../zod-issues.ts';
import { ACME_NO_CHALLENGE, acmeCaServerProblem, acmeEabProblem, acmeEmailAddressesProblem } from './eab.ts';
import {
  applyOverrides,
  envOverrides,
  flagOverrides,
  type Override,
  overrideOrigin,
  TRAEFIK_ENV_PREFIX,
} from './overrides.ts';
import {
  ACCESS_LOG_FORMATS,
  ACME_KEY_TYPES,
  LOG_FORMATS,
  readLogLevel,
  type StaticConfig,
  safeAcmeCaServer,
  staticConfigSchema,
} from './schema.ts';

/**
 * The static structs Traefik does not tag allowEmpty (file:"allowEmpty"), refused empty: Traefik
 * does not start. From v3.6's pkg/config/static/static_config.go (Configuration: `global`,
 * `serversTransport`, `tcpServersTransport`, `providers`, `metrics`, `experimental`, `core`,
 * `spiffe`; ServersTransport's `forwardingTimeouts`; CertificateResolver's `acme`) and entrypoints.go (EntryPoint: `transport`, `forwardedHeaders`, `http`, `http2`, `udp`,
 * `observability`; HTTPConfig's `redirections` and its `entryPoint`; EntryPointsTransport's
 * `lifeCycle` and `respondingTimeouts`) and pkg/types/logs.go (AccessLog's `filters` and `fields`,
 * AccessLogFields' `headers`). Not Providers' `file`, though its tag says so: Traefik v3's own
 * integration test TestSimpleConfigurationNoPanic (integration/file_test.go, traefik/v3) starts
 * Traefik on fixtures/file/56-simple-panic.toml, an empty `[providers.file]`, and expects it to
 * serve (404): what Traefik's CI shows it does wins over our reading of the tags, and a file
 * provider with neither filename nor directory only logs that it does nothing. Tagged allowEmpty there, so taken empty: `api`, `ping`, `log`,
 * `accessLog` and its `otlp`, `tracing` and its exporters, `hostResolver`, `ocsp`, every other
 * provider, every metrics exporter (pkg/types/metrics.go), an ACME resolver's `httpChallenge`,
 * `tlsChallenge` and `dnsChallenge` (pkg/provider/acme/provider.go Configuration), an entry
 * point's `proxyProtocol`, `http3` and `http.tls`, a resolver's `tailscale`, a transport's
 * `spiffe` and `tls`. The same tags decide flags and env variables (paerser's label metadata):
 * `--metrics` alone, `TRAEFIK_METRICS=true`, are refused as well (standaloneOverrides).
 */
const STATIC_STRICT: readonly (readonly string[])[] = [
  ...[
    'global',
    'serversTransport',
    'tcpServersTransport',
    'providers',
    'metrics',
    'experimental',
    'core',
    'spiffe',
  ].map((k) => [k]),
  ['accessLog', 'filters'],
  ['accessLog', 'fields'],
  ['accessLog', 'fields', 'headers'],
  ['serversTransport', 'forwardingTimeouts'],
  ['certificatesResolvers', '*', 'acme'],
  ...['transport', 'forwardedHeaders', 'http', 'http2', 'udp', 'observability'].map((k) => [
    'entryPoints',
    '*',
    k,
  ]),
  ['entryPoints', '*', 'http', 'redirections'],
  ['entryPoints', '*', 'http', 'redirections', 'entryPoint'],
  ['entryPoints', '*', 'transport', 'lifeCycle'],
  ['entryPoints', '*', 'transport', 'respondingTimeouts'],
];

/**
 * A flag or env variable that turns on a section Traefik does not tag allowEmpty (`--metrics`,
 * `TRAEFIK_METRICS=true`, `--entryPoints.web.http2`) with nothing under it: paerser's flag
 * and env decoders read it as a node without children, which addMetadata refuses ("metrics cannot
 * be a standalone element"), and Traefik does not start.
 */
function standaloneOverrides(overrides: readonly Override[], merged: Record<string, unknown>): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const o of overrides) {
    if (!isPlainObject(o.value) || Object.keys(o.value).length > 0) continue;
    const path = o.path.map(String);
    if (!matchesPath(path, STATIC_STRICT)) continue;
    let here: unknown = merged;
    for (const k of path) here = isPlainObject(here) ? here[k] : undefined;
    if (isPlainObject(here) && Object.values(here).some((v) => v !== null && v !== undefined)) continue;
    out.push(
      issue(
        'error',
        `\`${path.at(-1)}\` cannot be a standalone element: a section turned on with nothing under it makes Traefik refuse to start (paerser: it needs at least one key under it) (set by ${o.origin})`,
        path,
      ),
    );
  }
  return out;
}

export interface LoadStaticOptions {
  /** The static YAML file; without one, the configuration comes from flags and env alone. */
  readonly file?: string;
  /** Override flags only (`--log.level=DEBUG`), as returned by parseCommand's `overrides`. */
  readonly argv: readonly string[];
  /** `TRAFFIC_*` variables are overrides. */
  readonly env: NodeJS.ProcessEnv;
  readonly readFile?: (path: string) => string;
}

export interface LoadedStatic {
  /** Present when there is no error. Relative provider paths are resolved against the file's folder. */
  readonly config?: StaticConfig;
  readonly issues: ConfigIssue[];
  /**
   * The data the schema was given (file, env and flags merged), when the file could be read as
   * YAML: `traffic validate` finds the dynamic files in it even when the static config has errors.
   */
  readonly data?: Readonly<Record<string, unknown>>;
  /** Maps a path of the static configuration to its place in the file (with `config`). */
  readonly locate?: Locator;
}

/** Loads the static configuration: file, then env, then flags (flags win). */
export function loadStaticConfig(opts: LoadStaticOptions): LoadedStatic {
  const issues: ConfigIssue[] = [];
  let data: Record<string, unknown> = {};
  let locate: Locator = noLocation;
  let text: string | undefined;
  /** The dynamic sections written at the top of the static file, as written. */
  let dynamicKeys: string[] = [];
  if (opts.file !== undefined) {
    try {
      text = (opts.readFile ?? ((p: string) => readFileSync(p, 'utf8')))(opts.file);
    } catch (err) {
      // Traefik's words (pkg/cli/loader_file.go loadConfigFiles: a named file is looked for as
      // named only, `configuration file "…" not found`; one that cannot be read fails its decoder
      // with Go's os.PathError), and it does not start.
      const message = isMissingFile(err)
        ? `configuration file ${JSON.stringify(opts.file)} not found`
        : `cannot read the configuration file: ${goPathError(err, opts.file)}`;
      issues.push(issue('error', message, [], { file: opts.file }));
      return { issues };
    }
    const src = parseConfigText(text, opts.file);
    issues.push(...src.issues);
    if (src.data === undefined) return { issues };
    const raw = src.data ?? {};
    if (!isPlainObject(raw)) {
      const { exact: _, ...where } = src.locate([]);
      issues.push(issue('error', 'the configuration file must be a map (key: value)', [], where));
      return { issues };
    }
    // Keys, scalars and lists read as Traefik reads them; the dynamic sections are left to parseDynamic.
    // Traefik's file decoder refuses an empty map (`entryPoints: {}`, `experimental.plugins: {}`):
    // it does not start. Its empty structs are allowEmpty sections (`ping: {}`) but for a few.
    const norm = normalizeConfig(raw, staticConfigSchema, {
      locate: src.locate,
      passThrough: DYNAMIC_SECTIONS,
      standalone: { emptySection: (path) => matchesPath(path, STATIC_STRICT) },
    });
    issues.push(...norm.issues);
    locate = norm.locate;
    const normalized = isPlainObject(norm.data) ? norm.data : {};
    const isDynamic = (k: string) => DYNAMIC_SECTIONS.some((d) => d === k.toLowerCase());
    dynamicKeys = Object.keys(normalized).filter(isDynamic);
    data = Object.fromEntries(Object.entries(normalized).filter(([k]) => !isDynamic(k)));
  }

  const env = envOverrides(opts.env, staticConfigSchema, data);
  const flags = flagOverrides(opts.argv, staticConfigSchema, data);
  issues.push(...env.issues, ...flags.issues);
  const overrides = [...env.overrides, ...flags.overrides];
  let merged = applyOverrides(data, overrides);
  issues.push(...standaloneOverrides(overrides, merged));
  // Traefik's SetEffectiveConfiguration (pkg/config/static/static_config.go): a configuration
  // that defines no entry point gets `http` on `:80`, whichever source it came from (a file,
  // flags such as a compose file's `--providers.docker`, TRAEFIK_ variables). With no source at
  // all we keep refusing to start (main.ts says where it looked), rather than listen on :80 for a
  // proxy nobody configured; our own TRAFFIC_ variables are not a source.
  const fromTraefikSource =
    opts.file !== undefined ||
    flags.overrides.length > 0 ||
    env.overrides.some((o) => o.origin.startsWith(TRAEFIK_ENV_PREFIX));
  if (fromTraefikSource && !hasEntryPoints(merged)) {
    merged = { ...merged, entryPoints: { http: { address: ':80' } } };
    issues.push(
      issue(
        'warning',
        "no entry point is defined: Traefik's default entry point `http` listens on :80",
        ['entryPoints'],
        {},
      ),
    );
  }

  const r = staticConfigSchema.safeParse(merged, { reportInput: true });
  if (!r.success) {
    const found = fromZodIssues(r.error.issues, {
      locate,
      origin: (path) => overrideOrigin(overrides, data, path),
    });
    issues.push(...sortIssues(found));
    const origin = (path: ConfigPath) => overrideOrigin(overrides, data, path);
    issues.push(...crossKeyIssues(merged, r.error.issues, found, locate, origin));
    issues.push(...formatWarnings(merged, locate, origin));
  }

  if (!r.success || issues.some((i) => i.severity === 'error')) {
    return { issues, data: merged };
  }
  issues.push(...skippedResolvers(r.data, locate));
  issues.push(
    ...keyTypeWarnings(merged, locate),
    ...caServerWarnings(merged, locate),
    ...formatWarnings(merged, locate, (path) => overrideOrigin(overrides, data, path)),
    ...accessLogStatusWarnings(r.data, locate),
    ...fileProviderWarnings(r.data, locate),
    ...entryPointDomainWarnings(r.data, locate),
    ...addressWarnings(r.data, locate, (path) => overrideOrigin(overrides, data, path)),
  );
  const config = resolvePaths(r.data, opts.file);
  if (opts.file !== undefined && dynamicKeys.length > 0 && !fileProviderReads(config, opts.file)) {
    issues.push(...ignoredDynamicWarnings(dynamicKeys, locate));
  }
  if (Object.keys(config.entryPoints).length === 0) {
    issues.push(issue('warning', 'no entry point is defined: nothing will listen', ['entryPoints'], {}));
  }
  if (config.global?.notAppendXForwardedFor === true) {
    // Traefik v3.7 reads it into its static configuration, and no code reads it from there
    // (traefik/traefik#13185, #13226): X-Forwarded-For is appended all the same.
    const path = ['global', 'notAppendXForwardedFor'];
    const { exact: _, ...where } = locate(path);
    issues.push(
      issue(
        'warning',
        '`global.notAppendXForwardedFor` has no effect, as in Traefik: set `entryPoints.<name>.forwardedHeaders.notAppendXForwardedFor` on the entry points instead',
        path,
        where,
      ),
    );
  }
  const tcpTransport = (merged as { tcpServersTransport?: unknown }).tcpServersTransport;
  if (
    typeof tcpTransport === 'object' &&
    tcpTransport !== null &&
    (tcpTransport as { terminationDelay?: unknown }).terminationDelay !== undefined
  ) {
    // Traefik's DialerManager.Build (pkg/tcp/dialer.go) takes a service's termination delay from
    // its serversTransport when it names one, else from its deprecated key, else 0: never from
    // default@internal (traefik/traefik#12802).
    const path = ['tcpServersTransport', 'terminationDelay'];
    const { exact: _, ...where } = locate(path);
    issues.push(
      issue(
        'warning',
        '`tcpServersTransport.terminationDelay` has no effect, as in Traefik: a TCP service that names no serversTransport closes both sides at the first FIN (0) unless its own deprecated `terminationDelay` says otherwise; name a `tcp.serversTransports` entry to set one',
        path,
        where,
      ),
    );
  }
  if (config.core?.defaultRuleSyntax === 'v2') {
    // Traefik's ValidateConfiguration logs it (pkg/config/static/static_config.go).
    const { exact: _, ...where } = locate(['core', 'defaultRuleSyntax']);
    issues.push(
      issue(
        'warning',
        "the v2 rule syntax is deprecated (as in Traefik): rules are read with Traefik v2's matchers until they are written in the v3 syntax",
        ['core', 'defaultRuleSyntax'],
        where,
      ),
    );
  }
  return { config, issues, locate };
}

/**
 * Traefik reads dynamic configuration from its providers only: the static file's `http:`,
 * `tcp:`, `udp:` and `tls:` sections are dropped by its decoder (paerser file.Decode keeps the
 * root fields of the static Configuration only, getRootFieldNames), without a word there
 * (traefik/traefik#12098 asks for one). The file provider reads them when it reads this file
 * (`providers.file.filename` naming it, or a `directory` holding it), as any dynamic file.
 */
function ignoredDynamicWarnings(keys: readonly string[], locate: Locator): ConfigIssue[] {
  return keys.map((key) => {
    const { exact: _, ...where } = locate([key], 'key');
    const message =
      `\`${key}\` is dynamic configuration, which is read from providers only: it is ignored in the ` +
      'static file, as Traefik ignores it (put it in a file of `providers.file`, which may name this file)';
    return issue('warning', message, [key], where);
  });
}

/**
 * Whether the file provider reads the static file itself: `filename` names it, or it is a YAML or
 * TOML file of `directory` or of a subfolder (Traefik's loadFileConfigFromDirectory recurses).
 */
export function fileProviderReads(config: StaticConfig, file: string): boolean {
  const fp = config.providers.file;
  if (fp === undefined) return false;
  const own = configPath(file);
  if (fp.directory !== undefined) {
    const rel = relative(fp.directory, own);
    return (
      rel !== '' &&
      !rel.startsWith(`..${sep}`) &&
      rel !== '..' &&
      !isAbsolute(rel) &&
      /\.(ya?ml|toml)$/i.test(own)
    );
  }
  return fp.filename !== undefined && fp.filename === own;
}

/**
 * As Traefik's file provider (pkg/provider/file/file.go buildConfiguration): with both
 * `directory` and `filename`, the folder is read and the file ignored (silently there).
 */
function fileProviderWarnings(config: StaticConfig, locate: Locator): ConfigIssue[] {
  const fp = config.providers.file;
  if (fp !== undefined && !fp.filename && !fp.directory) {
    // Traefik's Provide returns "neither filename nor directory is defined", which its provider
    // aggregator logs ("Cannot start the provider *file.Provider"); Traefik runs without it.
    const path = ['providers', 'file'];
    const { exact: _, ...where } = locate(path, 'key');
    const message =
      'the file provider does not start: neither `filename` nor `directory` is set (Traefik: "error using file configuration provider, neither filename nor directory is defined", and it runs without the provider)';
    // At ERROR, as the aggregator's log.Error() ("Cannot start the provider").
    return [loggedAsError(issue('warning', message, path, where))];
  }
  if (!fp?.filename || !fp.directory) return [];
  const path = ['providers', 'file', 'filename'];
  const { exact: _, ...where } = locate(path);
  const message = '`filename` is ignored: `directory` is set, and only the folder is read (as Traefik)';
  return [issue('warning', message, path, where)];
}

/**
 * As Traefik's GetKeyType (pkg/provider/acme/account.go): an ACME keyType it does not know is
 * RSA4096 (the schema's fallback), which Traefik logs; a warning here.
 */
function keyTypeWarnings(merged: unknown, locate: Locator): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  const resolvers = isPlainObject(merged) ? merged['certificatesResolvers'] : undefined;
  if (!isPlainObject(resolvers)) return out;
  for (const [name, r] of Object.entries(resolvers)) {
    const acme = isPlainObject(r) ? r['acme'] : undefined;
    const v = isPlainObject(acme) ? acme['keyType'] : undefined;
    if (typeof v !== 'string' || ACME_KEY_TYPES.some((k) => k === v)) continue;
    const path = ['certificatesResolvers', name, 'acme', 'keyType'];
    const { exact: _, ...where } = locate(path);
    out.push(
      issue(
        'warning',
        `unknown key type ${JSON.stringify(v)}: RSA4096 is used (as Traefik); one of ${ACME_KEY_TYPES.join(', ')}`,
        path,
        where,
      ),
    );
  }
  return out;
}

/**
 * An entry point's `http.tls.certResolver` that names no resolver, and its `http.tls.domains`
 * names no certificate can hold (a `${DOMAIN}` placeholder):
 * Traefik gives these to its routers as plain strings (applyModel) that only the resolver's
 * order uses, failing at run time; a warning here, and the entry is not ordered (main.ts).
 */
function entryPointDomainWarnings(config: StaticConfig, locate: Locator): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const [name, ep] of Object.entries(config.entryPoints)) {
    // Traefik gives it to the routers (applyModel), which it serves with the store's certificates,
    // logging "Router uses a nonexistent certificate resolver" (cmd/traefik/traefik.go).
    const resolver = ep.http?.tls?.certResolver;
    if (
      resolver !== undefined &&
      resolver !== '' &&
      !Object.hasOwn(config.certificatesResolvers ?? {}, resolver)
    ) {
      const path = ['entryPoints', name, 'http', 'tls', 'certResolver'];
      const { exact: _, ...where } = locate(path);
      // At ERROR, as Traefik's log.Error() there.
      out.push(
        loggedAsError(
          issue(
            'warning',
            `certificate resolver \`${resolver}\` does not exist (certificatesResolvers): nothing is ordered, and its routers are served with the store's certificates, as in Traefik`,
            path,
            where,
          ),
        ),
      );
    }
    const domains = ep.http?.tls?.domains ?? [];
    for (const w of routerTlsDomainWarnings(
      domains,
      ['entryPoints', name, 'http', 'tls', 'domains'],
      'its routers are served',
    )) {
      const { exact: _, ...where } = locate(w.path);
      out.push(issue(w.severity, w.message, w.path, where));
    }
  }
  return out;
}

/**
 * Resolvers Traefik's Provider.Init refuses ("clientTimeout must be at least
 * clientResponseHeaderTimeout"): cmd/traefik/traefik.go logs "The ACME resolve is skipped from the
 * resolvers list" and goes on without them, so routers naming one are served with the store's
 * certificates. Taken out of `config` here, with a warning.
 */
function skippedResolvers(config: StaticConfig, locate: Locator): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  const resolvers = config.certificatesResolvers ?? {};
  for (const [name, r] of Object.entries(resolvers)) {
    const a = r.acme;
    if (a === undefined || a.clientTimeout >= a.clientResponseHeaderTimeout) continue;
    const path = ['certificatesResolvers', name, 'acme', 'clientTimeout'];
    const { exact: _, ...where } = locate(path);
    // Logged at ERROR, as Traefik's log.Error() there.
    out.push(
      loggedAsError(
        issue(
          'warning',
          "clientTimeout must be at least clientResponseHeaderTimeout: the resolver is skipped (routers naming it are served with the store's certificates), as in Traefik",
          path,
          where,
        ),
      ),
    );
    delete resolvers[name];
  }
  return out;
}

const unusableResolver = (why: string): string =>
  `every certificate order of this resolver fails (${why}): its routers serve without its certificates, as in Traefik`;

/**
 * A Let's Encrypt ACME v1 caServer, read as its v2 URL by the schema: logged by Traefik's
 * getSafeACMECAServer. A caServer or EAB key the resolver cannot use (eab.ts): Traefik starts and
 * its orders fail.
 */
function caServerWarnings(merged: unknown, locate: Locator): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  const resolvers = isPlainObject(merged) ? merged['certificatesResolvers'] : undefined;
  if (!isPlainObject(resolvers)) return out;
  for (const [name, r] of Object.entries(resolvers)) {
    const acme = isPlainObject(r) ? r['acme'] : undefined;
    const hmac = isPlainObject(acme) && isPlainObject(acme['eab']) ? acme['eab']['hmacEncoded'] : undefined;
    const eabProblem = typeof hmac === 'string' && hmac !== '' ? acmeEabProblem(hmac) : undefined;
    if (eabProblem !== undefined) {
      const path = ['certificatesResolvers', name, 'acme', 'eab', 'hmacEncoded'];
      const { exact: _, ...where } = locate(path);
      out.push(issue('warning', unusableResolver(eabProblem), path, where));
    }
    // Traefik's getClient sets an HTTP-01 solver only for a non-empty `entryPoint` and a DNS-01 one
    // only for a non-empty `provider` (both sections are allowEmpty): an empty one is no challenge.
    const solver = (k: string, key: string): boolean | undefined => {
      const c = isPlainObject(acme) ? acme[k] : undefined;
      if (c === undefined || c === null || c === false) return undefined;
      return isPlainObject(c) && typeof c[key] === 'string' && c[key] !== '';
    };
    for (const [k, key, kind] of [
      ['httpChallenge', 'entryPoint', 'HTTP-01'],
      ['dnsChallenge', 'provider', 'DNS-01'],
    ] as const) {
      if (solver(k, key) !== false) continue;
      const path = ['certificatesResolvers', name, 'acme', k];
      const { exact: _, ...where } = locate(path, 'key');
      out.push(
        issue(
          'warning',
          `\`${k}\` without \`${key}\` sets no ${kind} solver (Traefik's getClient uses it only with one): it is ignored`,
          path,
          where,
        ),
      );
    }
    const tls = isPlainObject(acme) ? acme['tlsChallenge'] : undefined;
    if (
      isPlainObject(acme) &&
      solver('httpChallenge', 'entryPoint') !== true &&
      solver('dnsChallenge', 'provider') !== true &&
      (tls === undefined || tls === null || tls === false)
    ) {
      const path = ['certificatesResolvers', name, 'acme'];
      const { exact: _, ...where } = locate(path, 'key');
      out.push(issue('warning', unusableResolver(ACME_NO_CHALLENGE), path, where));
    }
    const emails = isPlainObject(acme) ? acme['emailAddresses'] : undefined;
    if (Array.isArray(emails)) {
      emails.forEach((e, i) => {
        const p = typeof e === 'string' ? acmeEmailAddressesProblem([e]) : undefined;
        if (p === undefined) return;
        const path = ['certificatesResolvers', name, 'acme', 'emailAddresses', i];
        const { exact: _, ...where } = locate(path);
        out.push(issue('warning', unusableResolver(p), path, where));
      });
    }
    const v = isPlainObject(acme) ? acme['caServer'] : undefined;
    if (typeof v !== 'string' || v === '') continue;
    const safe = safeAcmeCaServer(v);
    const path = ['certificatesResolvers', name, 'acme', 'caServer'];
    const { exact: _, ...where } = locate(path);
    const problem = acmeCaServerProblem(safe);
    if (problem !== undefined) out.push(issue('warning', unusableResolver(problem), path, where));
    if (safe === v) continue;
    out.push(
      issue(
        'warning',
        `${JSON.stringify(v)} is a v01 endpoint of the ACME API: ${JSON.stringify(safe)} is used (as Traefik)`,
        path,
        where,
      ),
    );
  }
  return out;
}

/**
 * An entry point without an address, or with an empty port: Traefik's EntryPoint has no default
 * address and buildListener (pkg/server/server_entrypoint_tcp.go) listens with Go's net.Listen,
 * which takes "" and "host:" as port 0. So do we, and say so: the port is only in the log.
 */
function addressWarnings(
  config: StaticConfig,
  locate: Locator,
  origin: (path: ConfigPath) => string | undefined,
): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const [name, ep] of Object.entries(config.entryPoints)) {
    const text = ep.address.split('/')[0]!;
    if (text !== '' && !text.endsWith(':')) continue;
    const path = ['entryPoints', name, 'address'];
    const from = origin(path);
    const { exact: _, ...where } = from === undefined ? locate(path) : {};
    const what = text === '' ? 'no address' : `no port in "${ep.address}"`;
    out.push(
      issue(
        'warning',
        `${what}${from === undefined ? '' : ` (set by ${from})`}: the entry point listens on a port the system chooses${text === '' || text === ':' ? ', on every interface' : ''}, as Traefik (Go's net.Listen)`,
        path,
        where,
      ),
    );
  }
  return out;
}

/**
 * One run reports every problem (`traffic validate`): the checks across keys (the schema's last
 * superRefine: a redirection's or an HTTP challenge's entry point, the experimental gates) run
 * only on data whose every key passed, so a typo anywhere hid them until it was fixed. They run
 * again here on the data without the refused keys; what they find that the first pass did not
 * (and that is not about a key left out) is added. The configuration stays refused either way.
 */
function crossKeyIssues(
  merged: unknown,
  refused: readonly z.core.$ZodIssue[],
  found: readonly ConfigIssue[],
  locate: Locator,
  origin: (path: ConfigPath) => string | undefined,
): ConfigIssue[] {
  if (!isPlainObject(merged)) return [];
  const pruned = structuredClone(merged) as Record<string, unknown>;
  const left: ConfigPath[] = [];
  for (const zi of refused) {
    const path = zi.path.filter((p): p is string | number => typeof p !== 'symbol');
    const keys = zi.code === 'unrecognized_keys' ? zi.keys.map((k) => [...path, k]) : [path];
    for (const at of keys) {
      if (at.length === 0) return [];
      let parent: unknown = pruned;
      for (const seg of at.slice(0, -1))
        parent =
          isPlainObject(parent) || Array.isArray(parent)
            ? (parent as Record<string | number, unknown>)[seg]
            : undefined;
      if (isPlainObject(parent)) delete parent[String(at.at(-1))];
      else if (Array.isArray(parent) && typeof at.at(-1) === 'number')
        parent[at.at(-1) as number] = undefined;
      left.push(at);
    }
  }
  const again = staticConfigSchema.safeParse(pruned, { reportInput: true });
  if (again.success) return [];
  const seen = new Set(found.map((i) => `${i.path.join('.')}|${i.message}`));
  // About a key left out, or about the object that lost it (a plugin without its moduleName).
  const prefix = (a: ConfigPath, b: ConfigPath) => a.length <= b.length && a.every((seg, k) => seg === b[k]);
  const touches = (path: ConfigPath) => left.some((l) => prefix(l, path) || prefix(path, l));
  return fromZodIssues(
    again.error.issues.filter((zi) => zi.code === 'custom'),
    { locate, origin },
  ).filter((i) => !touches(i.path) && !seen.has(`${i.path.join('.')}|${i.message}`));
}

/**
 * Formats Traefik does not know, which it loads all the same, and zerolog's log levels we do not
 * have (TRACE, FATAL, PANIC, disabled: OTHER_LOG_LEVELS). The application log is text unless
 * `log.format` is exactly `json` (cmd/traefik/logger.go getLogWriter), the access log is the
 * common format unless `json`, `common` or `genericCLF` (pkg/middlewares/accesslog/logger.go
 * NewHandler logs "Unsupported access log format"). The schema reads them so; a warning here.
 */
/**
 * accessLog.filters.statusCodes that Traefik's types.NewHTTPCodeRanges cannot read (`4xx`, `5o0`):
 * its accesslog NewHandler logs "Failed to create new HTTP code ranges" with Atoi's error and goes
 * on without a status filter (observability/access-log.ts does the same).
 */
function accessLogStatusWarnings(config: StaticConfig, locate: Locator): ConfigIssue[] {
  const codes = config.accessLog?.filters?.statusCodes;
  if (codes === undefined) return [];
  const r = goHttpCodeRanges(codes);
  if (!('error' in r)) return [];
  const path = ['accessLog', 'filters', 'statusCodes'];
  const { exact: _, ...where } = locate(path);
  return [
    issue(
      'warning',
      `Failed to create new HTTP code ranges: ${r.error}: the access log has no status filter (as Traefik)`,
      path,
      where,
    ),
  ];
}

function formatWarnings(
  merged: unknown,
  locate: Locator,
  origin: (path: ConfigPath) => string | undefined,
): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  if (!isPlainObject(merged)) return out;
  const check = (section: string, known: readonly string[], used: string): void => {
    const s = merged[section];
    const v = isPlainObject(s) ? s['format'] : undefined;
    if (typeof v !== 'string' || known.includes(v)) return;
    const path = [section, 'format'];
    const { exact: _, ...where } = locate(path);
    out.push(
      issue(
        'warning',
        `unknown format ${JSON.stringify(v)}: ${used} is used (as Traefik); one of ${known.join(', ')}`,
        path,
        where,
      ),
    );
  };
  check('log', LOG_FORMATS, 'the text format (common)');
  check('accessLog', ACCESS_LOG_FORMATS, 'the common format');
  const log = merged['log'];
  const level = isPlainObject(log) ? log['level'] : undefined;
  const text = typeof level === 'number' ? String(level) : level;
  if (typeof text === 'string') {
    const read = readLogLevel(text);
    const path = ['log', 'level'];
    const from = origin(path);
    const { exact: _, ...where } = from === undefined ? locate(path) : {};
    const set = from === undefined ? '' : ` (set by ${from})`;
    if (read === undefined)
      // Traefik's getLogLevel (cmd/traefik/logger.go): zerolog.ParseLevel fails, it logs an
      // error (log.Error(), so shown at the ERROR level it falls back to) and runs at ERROR.
      out.push(
        loggedAsError(
          issue(
            'warning',
            `invalid log level ${JSON.stringify(text)}${set}: the level is ERROR, as Traefik sets it ("Unspecified or invalid log level, setting the level to default (ERROR)"); one of DEBUG, INFO, WARN, ERROR`,
            path,
            where,
          ),
        ),
      );
    else if (read.nearest)
      out.push(
        issue(
          'warning',
          `log level ${JSON.stringify(text)}${set} is read as ${read.level.toUpperCase()}, the nearest of DEBUG, INFO, WARN, ERROR`,
          path,
          where,
        ),
      );
  }
  return out;
}

/**
 * A path of the configuration: relative to the working directory, as in Traefik (which opens
 * every configured path as given), and made absolute here so that messages name the real file.
 * Every other path (certificates, ACME storage, access log, users files) is opened as given,
 * hence relative to the working directory too: one rule for all (docs/configuration.md).
 */
export function configPath(path: string, cwd: string = process.cwd()): string {
  return isAbsolute(path) ? path : resolve(cwd, path);
}

/** The file provider's paths, absolute (from the working directory). */
function resolvePaths(config: StaticConfig, _file: string | undefined): StaticConfig {
  const fp = config.providers.file;
  if (fp === undefined) return config;
  if (!fp.filename && !fp.directory) {
    // Neither (an empty string is none, as Go's len(p.Filename) > 0): no file provider at all.
    const { file: _, ...others } = config.providers;
    return { ...config, providers: others };
  }
  const rel = (p: string | undefined): string | undefined => (p ? configPath(p) : undefined);
  const filename = rel(fp.filename);
  const directory = rel(fp.directory);
  const out: typeof fp = { watch: fp.watch, debugLogGeneratedTemplate: fp.debugLogGeneratedTemplate };
  // `directory` wins over `filename`, as Traefik's file provider (buildConfiguration).
  if (filename !== undefined && directory === undefined) out.filename = filename;
  if (directory !== undefined) out.directory = directory;
  return { ...config, providers: { ...config.providers, file: out } };
}

/** Whether the merged configuration defines an entry point (Traefik's hasUserDefinedEntrypoint). */
function hasEntryPoints(data: Readonly<Record<string, unknown>>): boolean {
  const eps = data['entryPoints'];
  return isPlainObject(eps) && Object.keys(eps).length > 0;
}
