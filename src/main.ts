/**
 * Composition root: the only file that knows every concrete class. Parses the command line,
 * loads the static configuration, opens the entry points, starts the providers and wires the
 * configuration watcher to the listeners through one SnapshotRef.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { BlockList, isIPv6 } from 'node:net';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { type ConfigLookup, describeSearch, findConfigFile } from './cli/config-lookup.ts';
import { helpText, packageVersion, parseCommand } from './cli/index.ts';
import { processHost, watchParent } from './cli/parent-watch.ts';
import { chooseStaticSource, type StaticSource } from './cli/static-source.ts';
// Never `./config/index.ts` nor a schema: configurations are parsed and validated in the
// configuration process (config-process/), and this one loads neither `zod` nor `yaml`.
import { objectAt } from './config/dynamic/disabled.ts';
import type { DynamicConfig } from './config/dynamic/schema.ts';
import type { TcpServersTransportConfig } from './config/dynamic/tcp.ts';
import { isDomainName } from './config/dynamic/tls-warnings.ts';
import { type ConfigIssue, formatIssue, hasErrors, issueLogFields, issueLogLine } from './config/issues.ts';
import { schemaDefaults } from './config/schema-defaults.ts';
import { parseAcmeStorage } from './config/static/acme-storage.ts';
import { parseAddress } from './config/static/address.ts';
import {
  defaultEntryPoints,
  enabledInternalServices,
  entryPointModelFor,
  isUdpEntryPoint,
  listenedEntryPoints,
} from './config/static/admin-entry-points.ts';
import type { AcmeResolverConfig, EntryPointConfig, StaticConfig } from './config/static/schema.ts';
import { securityNotices } from './config/static/security-notices.ts';
import {
  http01EntryPoints,
  ingressNginxNonTlsEntryPoints,
  tlsEntryPoints,
} from './config/static/tls-entry-points.ts';
import { dropSpareConfigProcess, loadStaticInChild, validateFilesInChild } from './config-process/client.ts';
import { type ClientTlsFields, clientTlsOptions } from './core/client-tls.ts';
import { LogFile } from './core/log-file.ts';
import { createLogger, type Logger } from './core/logger.ts';
import { limitOldGenerationGrowth } from './core/old-generation-growth.ts';
import { OldGenerationPacer, ReloadSettler, settleHeap } from './core/settle-heap.ts';
import { resumeOptimizingCompilers } from './core/start-compilers.ts';
import { Ticker } from './core/ticker.ts';
import { capYoungGeneration } from './core/young-generation-cap.ts';
import { aliasHeadersPolicy } from './http1/alias-headers.ts';
import { DEFAULT_REQUEST_LIMITS } from './http1/request-head.ts';
import { pathPolicy } from './http1/request-path.ts';
import { EntryPointDispatcher } from './listeners/dispatcher.ts';
import { HttpListener } from './listeners/http-listener.ts';
import type { AlpnChallenges, OcspHook } from './listeners/tls-front.ts';
import { TlsGate } from './listeners/tls-gate.ts';
import type { UdpEntryPoint } from './listeners/udp-entry-point.ts';
import type { PluginMiddlewares } from './middleware/middleware.ts';
import { ACCESS_LOG_MODE, type AccessLog, createAccessLog } from './observability/access-log.ts';
import type { TrafficMetrics } from './observability/metrics/index.ts';
import type { LinePusher } from './observability/metrics/line-pusher.ts';
import type { OtlpMetricsPusher } from './observability/metrics/otlp-pusher.ts';
import type { OtlpLogExporter } from './observability/otlp-logs.ts';
import type { BatchEnv, OtlpExportTarget } from './observability/otlp-transport.ts';
import type { Tracer } from './observability/tracing/index.ts';
import { EntryPointGate, OverloadManager, overloadCollector, ProcessSignals } from './overload/index.ts';
import type { PluginHost } from './plugins/host.ts';
import { refreshingPlugins } from './plugins/provider.ts';
import type { ApiProvider } from './providers/api/index.ts';
import { FileProvider } from './providers/file/file-provider.ts';
import { fileProviderOptions } from './providers/file/options.ts';
import type { Provider } from './providers/provider.ts';
import { createDynamicProviders, dynamicProviderNames } from './providers/registry.ts';
import type { ProviderStates } from './providers/status.ts';
import { SupervisedProvider } from './providers/supervisor.ts';
import { CnameFlattener } from './proxy/cname-flattening.ts';
import type { EntryPointContext } from './proxy/entry-point-context.ts';
import { keptConnectionFields } from './proxy/forwarded.ts';
import { LongLivedRegistry } from './proxy/long-lived.ts';
import { EntryPointMetrics, liveNames } from './proxy/route-metrics.ts';
import { TcpForwarder } from './proxy/tcp/tcp-forwarder.ts';
import { hostMatcherValues, parseRuleSyntax } from './router/index.ts';
import { compileTcpRule } from './router/tcp/index.ts';
import type { BuildOptions } from './runtime/build-snapshot.ts';
import { buildSnapshot } from './runtime/build-snapshot.ts';
import type { TlsBuildOptions } from './runtime/build-tls.ts';
import { CertFileWatch } from './runtime/cert-file-watch.ts';
import { ConfigWatcher } from './runtime/config-watcher.ts';
import { apiBasePath, internalServicesFor, newBridgeSecret } from './runtime/internal-services.ts';
import { entryPointRedirections } from './runtime/redirections.ts';
import { ResourceCache } from './runtime/resource-cache.ts';
import { checkBreakerExpression, checkRule } from './runtime/rule-checks.ts';
import { EMPTY_SNAPSHOT, type RuntimeSnapshot, SnapshotRef } from './runtime/types.ts';
import type { Staple } from './tls/ocsp/ocsp-stapler.ts';
import type { TailscaleResolver } from './tls/tailscale.ts';
import type { AcmeMirror, AcmeState } from './workers/acme-mirror.ts';
import type { OcspMirror } from './workers/ocsp-mirror.ts';
import { WORKER_SLOT_ENV } from './workers/protocol.ts';
import { type Plane, planeFor } from './workers/role.ts';

/** Read before anything slow: a parent that dies while we start must still be noticed. */
const PARENT_AT_START = process.ppid;

function trustedMatcher(cidrs: readonly string[], insecure: boolean): (ip: string) => boolean {
  if (insecure) return () => true;
  if (cidrs.length === 0) return () => false;
  const list = new BlockList();
  for (const c of cidrs) {
    const slash = c.indexOf('/');
    const ip = slash === -1 ? c : c.slice(0, slash);
    const type = isIPv6(ip) ? 'ipv6' : 'ipv4';
    if (slash === -1) list.addAddress(ip, type);
    else list.addSubnet(ip, Number(c.slice(slash + 1)), type);
  }
  return (ip) => ip !== '' && list.check(ip, isIPv6(ip) ? 'ipv6' : 'ipv4');
}

/**
 * The static `tcpServersTransport` as a TCP servers transport (Traefik's default@internal): its
 * keys over the dynamic defaults (no PROXY protocol, the idle timeout ours).
 */
function defaultTcpTransport(t: NonNullable<StaticConfig['tcpServersTransport']>): TcpServersTransportConfig {
  const d = schemaDefaults().tcpServersTransport;
  const { tls, ...timing } = t;
  return {
    ...d,
    ...timing,
    ...(tls === undefined ? {} : { tls: { ...tls, certificates: [] } }),
  };
}

/**
 * Go's http.Server.idleTimeout(), which Traefik's entry points run on (createHTTPServer in
 * pkg/server/server_entrypoint_tcp.go passes respondingTimeouts as they are): an idleTimeout of 0
 * takes readTimeout's value, and with both 0 an idle connection has no limit: a deadline at
 * Infinity, which the ticker's sweep never reaches (the connection code is unchanged).
 */
function goIdleTimeout(idleMs: number, readMs: number): number {
  if (idleMs > 0) return idleMs;
  return readMs > 0 ? readMs : Number.POSITIVE_INFINITY;
}

function entryPointContext(
  name: string,
  ep: EntryPointConfig,
  port: number,
  ref: SnapshotRef,
  ticker: Ticker,
  logger: Logger,
  accessLog: AccessLog | null,
  metrics: TrafficMetrics | null,
  tracer: Tracer | null,
  longLived: LongLivedRegistry,
  overload: EntryPointGate,
  cnameFlattening: CnameFlattener | null,
): EntryPointContext {
  const t = ep.transport.respondingTimeouts;
  return {
    name,
    // The cleartext side, even on an entry point with `http.tls`: its routers serve HTTPS there
    // (secureCtx below), and cleartext requests meet Traefik's HTTP handler, with no router.
    scheme: 'http',
    port: String(port),
    limits: { ...DEFAULT_REQUEST_LIMITS, maxHeaderBytes: ep.http.maxHeaderBytes },
    pathPolicy: pathPolicy(ep.http.sanitizePath, ep.http.encodedCharacters, ep.http.encodeQuerySemicolons),
    allowTrace: ep.http.allowTrace,
    cnameFlattening,
    aliasHeaders: aliasHeadersPolicy(ep.http.aliasHeadersStrategy, ep.http.underscoreHeadersStrategy),
    readHeaderTimeoutMs: t.readHeaderTimeout,
    idleTimeoutMs: goIdleTimeout(t.idleTimeout, t.readTimeout),
    readTimeoutMs: t.readTimeout,
    writeTimeoutMs: t.writeTimeout,
    keepAliveMaxRequests: ep.transport.keepAliveMaxRequests,
    keepAliveMaxTimeMs: ep.transport.keepAliveMaxTime,
    isTrusted: trustedMatcher(ep.forwardedHeaders.trustedIPs, ep.forwardedHeaders.insecure),
    connectionKept: keptConnectionFields(ep.forwardedHeaders.connection),
    appendForwardedFor: !ep.forwardedHeaders.notAppendXForwardedFor,
    schemeHeaders: ep.forwardedHeaders.addXForwardedSchemeHeaders,
    snapshots: ref,
    ticker,
    logger,
    accessLog,
    metrics: metrics === null ? null : new EntryPointMetrics(metrics, name),
    tracer,
    logUnrouted: ep.observability?.accessLogs !== false,
    meterUnrouted: ep.observability?.metrics !== false,
    traceUnrouted: ep.observability?.tracing !== false,
    detailUnrouted: ep.observability?.traceVerbosity === 'detailed',
    overload,
    longLived,
    graceMs: ep.transport.lifeCycle.graceTimeOut,
    draining: false,
  };
}

interface TlsSetup {
  readonly buildOptions: BuildOptions;
  onChange(fn: () => void): void;
  readonly alpn: AlpnChallenges | null;
  /** OCSP stapling (static `ocsp`), null when off. */
  readonly ocsp: OcspHook | null;
  stop(): void;
  /**
   * A snapshot was applied: asks the ACME resolvers for the certificates its routers need, and
   * has the OCSP stapler follow the certificates it serves.
   */
  ensure(snap: RuntimeSnapshot): void;
  /**
   * Entry point `name` is bound to `port`: redirections to it use the bound port, which differs
   * from the configured one only for `:0` (an ephemeral port).
   */
  bound(name: string, port: number): void;
  /**
   * TLS for the builds: ready at start when the static configuration terminates TLS (an entry
   * point's `http.tls`, a resolver, OCSP); otherwise loaded the first time a configuration's
   * routers ask for it (node:tls and the certificate code cost ~7 MB that an HTTP-only proxy
   * does not pay).
   */
  loadTls(): Promise<TlsBuildOptions>;
  /** Control plane of workers: the ACME state each configuration carries to the workers. */
  readonly acmeState: (() => AcmeState) | null;
  /** A worker: its copy of the control plane's ACME certificates and challenges. */
  readonly acmeMirror: AcmeMirror | null;
  /** Control plane of workers: the OCSP responses each configuration carries to the workers. */
  readonly ocspState: (() => Staple[]) | null;
  /** A worker: the responses the control plane fetched, which it staples. */
  readonly ocspMirror: OcspMirror | null;
}

/** What TLS asks of a resolver: CertificateManager here, the control plane's copy in a worker. */
interface ResolverView {
  ensure(domains: readonly string[]): void;
  certificates(): readonly {
    readonly keyPem: string;
    readonly certPem: string;
    readonly domains: readonly string[];
  }[];
}

/**
 * An OTLP exporter's `tls` as node's options (files read now), undefined without one; null when
 * a file cannot be read or parsed: logged, and that exporter is left out, as Traefik leaves out
 * an exporter whose CreateTLSConfig fails (pkg/observability/metrics/otel.go, tracing.go).
 */
function otlpTls(
  tls: ClientTlsFields | undefined,
  key: string,
  logger: Logger,
): ConnectionOptions | undefined | null {
  try {
    return clientTlsOptions(tls);
  } catch (e) {
    logger.error(`${key}: ${e instanceof Error ? e.message : String(e)}; the exporter is off`);
    return null;
  }
}

/** An OTLP exporter's `http` and `grpc` sections as the configuration gives them. */
interface OtlpSections {
  readonly http?:
    | {
        readonly endpoint: string;
        readonly headers: Record<string, string>;
        readonly tls?: ClientTlsFields | undefined;
      }
    | undefined;
  readonly grpc?:
    | {
        readonly endpoint: string;
        readonly insecure: boolean;
        readonly headers: Record<string, string>;
        readonly tls?: ClientTlsFields | undefined;
      }
    | undefined;
}

/** The label switches every metrics exporter has. */
interface FamilySwitches {
  readonly addEntryPointsLabels: boolean;
  readonly addRoutersLabels: boolean;
  readonly addServicesLabels: boolean;
}

/** Traefik's types.FileOrContent Read: the file's text when the value names one, else the value. */
function readFileOrContent(value: string): string {
  if (value === '') return value;
  try {
    return readFileSync(value, 'utf8');
  } catch {
    return value;
  }
}

/**
 * Where an OTLP exporter sends (`key` is `tracing.otlp` or `metrics.otlp`): its `grpc` section
 * when there is one, which Traefik prefers (types/tracing.go Setup, metrics/otel.go
 * newOpenTelemetryMeterProvider), else `http` (Traefik's default https://localhost:4318), the
 * resource attributes Traefik's detectors find (applied first) and those of
 * OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME (resource.WithFromEnv, applied last). Null when the exporter cannot be set up, as Traefik leaves
 * it out: a `tls` file that cannot be read, or an environment resource Go reports as partial.
 */
async function otlpTarget(
  otlp: OtlpSections | undefined,
  key: string,
  logger: Logger,
): Promise<{
  target: OtlpExportTarget;
  detected: Record<string, string | number>;
  envResource: Record<string, string>;
  /** OTEL_BSP_* (spans) or OTEL_BLRP_* (log records). */
  batch: (prefix: 'BSP' | 'BLRP') => BatchEnv;
} | null> {
  const { batchEnv, detectedResource, resourceFromEnv } = await import('./observability/otlp-transport.ts');
  let envResource: Record<string, string>;
  try {
    envResource = resourceFromEnv(process.env);
  } catch (e) {
    logger.error(
      `${key}: building resource: ${e instanceof Error ? e.message : String(e)}; the exporter is off`,
    );
    return null;
  }
  const batch = (prefix: 'BSP' | 'BLRP'): BatchEnv =>
    batchEnv(prefix, process.env, (msg) => logger.warn(`${key}: ${msg}`));
  const grpc = otlp?.grpc;
  if (grpc !== undefined) {
    const tls = otlpTls(grpc.tls, `${key}.grpc.tls`, logger);
    if (tls === null) return null;
    const target = {
      endpoint: grpc.endpoint,
      headers: grpc.headers,
      tls,
      grpc: { insecure: grpc.insecure },
      env: process.env,
    };
    return { target, detected: detectedResource(process.env), envResource, batch };
  }
  const http = otlp?.http;
  const tls = otlpTls(http?.tls, `${key}.http.tls`, logger);
  if (tls === null) return null;
  const target = {
    endpoint: http?.endpoint ?? 'https://localhost:4318',
    headers: http?.headers ?? {},
    tls,
    env: process.env,
  };
  return { target, detected: detectedResource(process.env), envResource, batch };
}

/** OTEL_BSP_* as the tracer's batching options. */
function batchOptions(b: BatchEnv): {
  flushIntervalMs?: number;
  maxQueue?: number;
  maxBatch?: number;
  processorTimeoutMs?: number;
} {
  return {
    ...(b.scheduleDelayMs === undefined ? {} : { flushIntervalMs: b.scheduleDelayMs }),
    ...(b.exportTimeoutMs === undefined ? {} : { processorTimeoutMs: b.exportTimeoutMs }),
    ...(b.maxQueue === undefined ? {} : { maxQueue: b.maxQueue }),
    ...(b.maxBatch === undefined ? {} : { maxBatch: b.maxBatch }),
  };
}

/** OTEL_BLRP_* as the log exporter's batching options. */
function logBatchOptions(b: BatchEnv): {
  intervalMs?: number;
  maxQueue?: number;
  maxBatch?: number;
  processorTimeoutMs?: number;
} {
  return {
    ...(b.scheduleDelayMs === undefined ? {} : { intervalMs: b.scheduleDelayMs }),
    ...(b.exportTimeoutMs === undefined ? {} : { processorTimeoutMs: b.exportTimeoutMs }),
    ...(b.maxQueue === undefined ? {} : { maxQueue: b.maxQueue }),
    ...(b.maxBatch === undefined ? {} : { maxBatch: b.maxBatch }),
  };
}

/**
 * TLS and ACME from the static configuration: the build options every snapshot gets (TLS entry
 * points, the generated default certificate, redirections, ACME certificates and http-01
 * answers), and the ACME managers, which ask for a rebuild when a certificate arrives. Null when
 * a resolver cannot be set up (a DNS provider's variables are missing): already logged.
 */
async function setupTls(config: StaticConfig, logger: Logger, plane: Plane): Promise<TlsSetup | null> {
  const tlsEps = tlsEntryPoints(config.entryPoints);
  const strictOptions = config.core?.strictTLSOptions === true;
  const { redirections, bound } = entryPointRedirections(config);
  const all = Object.entries(config.certificatesResolvers ?? {});
  const resolvers = all.flatMap(([name, r]) =>
    r.acme === undefined ? [] : [[name, { acme: r.acme }] as [string, { acme: AcmeResolverConfig }]],
  );
  const tailscaleResolvers = all.filter(([, r]) => r.tailscale !== undefined).map(([name]) => name);
  const listeners: (() => void)[] = [];
  let buildOptions: BuildOptions = redirections.size === 0 ? {} : { redirections };
  if (tlsEps.size === 0 && all.length === 0 && config.ocsp === undefined) {
    let loading: Promise<TlsBuildOptions> | undefined;
    return {
      buildOptions,
      onChange: () => {},
      alpn: null,
      ocsp: null,
      stop: () => {},
      ensure: () => {},
      bound,
      acmeState: null,
      acmeMirror: null,
      ocspState: null,
      ocspMirror: null,
      loadTls: () => {
        loading ??= (async () => {
          const tls = await import('./tls/index.ts');
          const { buildTls } = await import('./runtime/build-tls.ts');
          return {
            build: buildTls,
            entryPoints: tlsEps,
            generated: new tls.GeneratedDefaultCertificate(),
            roots: new tls.TrustedRoots(),
            strictOptions,
          };
        })();
        return loading;
      },
    };
  }
  const tls = await import('./tls/index.ts');
  const { buildTls } = await import('./runtime/build-tls.ts');
  const generated = new tls.GeneratedDefaultCertificate();
  // One for the process: node's trusted roots are indexed once, by the first build that needs them.
  const roots = new tls.TrustedRoots();
  // With workers the control plane fetches every response once and the workers staple its copies.
  const ocspMirror =
    config.ocsp === undefined || plane.role !== 'worker'
      ? null
      : new (await import('./workers/ocsp-mirror.ts')).OcspMirror();
  const stapler =
    config.ocsp === undefined || ocspMirror !== null
      ? null
      : new (await import('./tls/ocsp/index.ts')).OcspStapler({
          logger: logger.child({ component: 'ocsp' }),
          responderOverrides: config.ocsp.responderOverrides,
          roots,
        });
  const ocspControl = plane.role === 'control' ? plane.control : null;
  if (stapler !== null && ocspControl !== null) stapler.onStapled((st) => ocspControl.staple(st));
  /** Every resolver by name: ACME's (or a worker's copy of them) and Tailscale's. */
  const byName = new Map<string, ResolverView>();
  const stoppable: { stop(): void }[] = [];
  let http01: import('./tls/acme/index.ts').Http01Store | null = null;
  let alpn: AlpnChallenges | null = null;
  let acmeState: (() => AcmeState) | null = null;
  let acmeMirror: AcmeMirror | null = null;
  if (resolvers.length > 0 && plane.role === 'worker') {
    // A data-plane worker runs no ACME client: it serves what the control plane obtained and
    // answers the challenges it presents (src/workers/acme-mirror.ts).
    const mirror = new (await import('./workers/acme-mirror.ts')).AcmeMirror();
    acmeMirror = mirror;
    http01 = mirror.http01;
    alpn = mirror.tlsAlpn01;
    for (const [name] of resolvers) {
      const view: ResolverView = {
        ensure: () => {},
        certificates: () => mirror.certificatesOf(name),
      };
      byName.set(name, view);
    }
  } else if (resolvers.length > 0) {
    const acme = await import('./tls/acme/index.ts');
    // The control plane of workers: each challenge is in every worker before the CA looks.
    const control = plane.role === 'control' ? plane.control : null;
    const stores = {
      http01: new acme.Http01Store(
        control === null ? undefined : (key, value) => control.challenge({ kind: 'http-01', key, value }),
      ),
      tlsAlpn01: new acme.TlsAlpn01Store(
        control === null ? undefined : (key, value) => control.challenge({ kind: 'tls-alpn-01', key, value }),
      ),
    };
    http01 = stores.http01;
    alpn = stores.tlsAlpn01;
    // Every provider first, every problem reported: nothing starts on a half-valid setup.
    const dns = acme.dnsProvidersFor(
      resolvers.map(([name, r]) => [name, r.acme.dnsChallenge] as const),
      process.env,
      {
        logger,
        // The AWS SDK's default chain for route53 without keys: the ECS provider's, loaded only
        // when a certificate needs it.
        awsCredentials: async (env, signal) =>
          (await import('./providers/ecs/aws-client.ts')).resolveCredentials('', '', env, signal),
      },
    );
    for (const e of dns.errors)
      logger.error('configuration error', { resolver: e.resolver, error: e.message });
    if (dns.errors.length > 0) return null;
    const dnsProviders = dns.providers;
    const { openSharedStore } = await import('./cluster/index.ts');
    // How this process names itself in shared ACME storage (locks, heartbeats, who obtained what).
    const instanceId = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    for (const [name, r] of resolvers) {
      const a = r.acme;
      const sharedStore = openSharedStore(parseAcmeStorage(a.storage));
      if (sharedStore === undefined) {
        // Traefik's Provider.Init reads the account first (CheckFile: mode, then the JSON); when
        // it cannot, cmd/traefik/traefik.go skips the resolver with an error and its routers are
        // served with the store's certificates, as naming an unknown resolver. The file is left
        // as it is: nothing of this resolver will save over it.
        try {
          new acme.AcmeStorage(a.storage, logger).check();
        } catch (e) {
          logger.error(`The ACME resolver "${name}" is skipped from the resolvers list`, {
            resolver: name,
            error: `unable to get ACME account: ${(e as Error).message}`,
          });
          continue;
        }
      }
      const dnsProvider = dnsProviders.get(name);
      // Every challenge configured, as Traefik's getClient sets a lego solver for each.
      const challenge: ('http-01' | 'tls-alpn-01' | 'dns-01')[] = [];
      if (a.httpChallenge !== undefined) challenge.push('http-01');
      if (a.tlsChallenge !== undefined) challenge.push('tls-alpn-01');
      if (a.dnsChallenge !== undefined) challenge.push('dns-01');
      const m: import('./tls/acme/index.ts').CertificateManager = new acme.CertificateManager(
        {
          caServer: a.caServer,
          email: a.email,
          ...(a.eab === undefined ? {} : { eab: a.eab }),
          storageFile: a.storage,
          ...(sharedStore === undefined ? {} : { shared: { store: sharedStore, instanceId } }),
          resolverName: name,
          challenge,
          challengeDelayMs: {
            'http-01': a.httpChallenge?.delay ?? 0,
            'tls-alpn-01': a.tlsChallenge?.delay ?? 0,
          },
          keyType: a.keyType.toLowerCase() as import('./tls/x509/index.ts').KeyType,
          ...(dnsProvider !== undefined ? { dnsProvider } : {}),
          // Traefik's createClientTLSConfig, with lego's LEGO_CA_* environment fallbacks.
          ...acme.acmeCaTrust(a, process.env, (f) => readFileSync(f, 'utf8')),
          ...(a.preferredChain === undefined ? {} : { preferredChain: a.preferredChain }),
          ...(a.profile === undefined ? {} : { profile: a.profile }),
          ...(a.emailAddresses.length === 0 ? {} : { emailAddresses: a.emailAddresses }),
          ...(a.disableCommonName ? { disableCommonName: true } : {}),
          clientTimeoutMs: a.clientTimeout,
          clientResponseHeaderTimeoutMs: a.clientResponseHeaderTimeout,
          ...(a.certificatesDuration !== undefined ? { certificatesDuration: a.certificatesDuration } : {}),
          logger: logger.child({ resolver: name }),
        },
        stores,
      );
      m.onChange(() => {
        for (const fn of listeners) fn();
      });
      byName.set(name, m);
      stoppable.push(m);
      m.start();
    }
    const real = byName;
    acmeState = () => ({
      certificates: resolvers.map(([name]) => [name, real.get(name)?.certificates() ?? []] as const),
      http01: stores.http01.entries(),
      tlsAlpn01: stores.tlsAlpn01.entries(),
    });
  }
  const sourceOf = (name: string): string => (tailscaleResolvers.includes(name) ? 'tailscale' : 'acme');
  // Tailscale resolvers ask the local tailscaled, in every process (workers too): nothing to share.
  const tailscale: TailscaleResolver[] = [];
  if (tailscaleResolvers.length > 0) {
    const { TailscaleResolver } = await import('./tls/tailscale.ts');
    for (const name of tailscaleResolvers) {
      const t = new TailscaleResolver(name, logger.child({ resolver: name }));
      tailscale.push(t);
      t.onChange(() => {
        for (const fn of listeners) fn();
      });
      byName.set(name, t);
      stoppable.push(t);
      t.start();
    }
  }
  const http01Store = http01;
  buildOptions = {
    ...buildOptions,
    tls: {
      build: buildTls,
      entryPoints: tlsEps,
      generated,
      roots,
      strictOptions,
      extraCertificates: () =>
        [...byName].flatMap(([name, m]) =>
          m.certificates().map((c) => ({
            certPem: c.certPem,
            keyPem: c.keyPem,
            source: `${sourceOf(name)}:${c.domains.join(',')}`,
          })),
        ),
    },
    ...(http01Store === null
      ? {}
      : {
          acmeHttp01: {
            // One route per entry point, however many resolvers use it.
            ...http01EntryPoints(config),
            lookup: (p: string) => http01Store.lookupPath(p),
          },
        }),
  };
  const ready = buildOptions.tls!;
  return {
    buildOptions,
    onChange: (fn) => listeners.push(fn),
    alpn,
    ocsp: ocspMirror ?? stapler,
    bound,
    loadTls: () => Promise.resolve(ready),
    acmeState,
    acmeMirror,
    ocspState: stapler !== null && ocspControl !== null ? () => stapler.staples() : null,
    ocspMirror,
    stop: () => {
      for (const m of stoppable) m.stop();
      stapler?.close();
    },
    ensure: (snap) => {
      const store = snap.tls?.store;
      if (stapler !== null && store !== undefined) {
        const d = store.defaultCertificate;
        stapler.track(d.generated ? store.certificates : [...store.certificates, d]);
      }
      for (const t of tailscale) t.beginPass();
      // As Traefik's ACME getUncheckedDomains: nothing is ordered for names that certificates of
      // the TLS store already cover (files, other resolvers, a configured default; wildcards
      // too), only when one of them is not covered.
      const covered = (names: readonly string[]): boolean =>
        store !== undefined && names.every((n) => store.covers(n));
      // A router's tls.domains entry holding a name no certificate can (a placeholder left in)
      // loads with a warning; Traefik's order for it fails, so none is placed here.
      const orderable = (names: readonly string[]): boolean => names.length > 0 && names.every(isDomainName);
      // Traefik: a router's certResolver obtains certificates for its tls.domains, else for the
      // host names of its rule. The routers here had the entry point model applied: those on an
      // entry point with `http.tls` and no `tls` of their own carry the entry point's.
      for (const r of Object.values(snap.config.http.routers)) {
        const resolver = r.tls?.certResolver;
        const m = resolver === undefined ? undefined : byName.get(resolver);
        if (m === undefined) continue;
        // A Tailscale certificate has one name: only each domain's main (Traefik's findDomains).
        const sans = !tailscaleResolvers.includes(resolver!);
        const domains =
          r.tls !== undefined && r.tls.domains.length > 0
            ? r.tls.domains.map((d) => (sans ? [d.main, ...d.sans] : [d.main]))
            : [hostNames(r.rule, r.ruleSyntax)];
        for (const d of domains) if (orderable(d) && !(sans && covered(d))) m.ensure(d);
      }
      // TCP routers that terminate TLS: their tls.domains, else the names of their HostSNI.
      for (const r of Object.values(snap.config.tcp?.routers ?? {})) {
        const t = r.tls;
        const m =
          t === undefined || t.passthrough || t.certResolver === undefined
            ? undefined
            : byName.get(t.certResolver);
        if (m === undefined || t === undefined) continue;
        const c = compileTcpRule(r.rule, r.ruleSyntax);
        const sans = !tailscaleResolvers.includes(t.certResolver!);
        const domains =
          t.domains.length > 0
            ? t.domains.map((d) => (sans ? [d.main, ...d.sans] : [d.main]))
            : [c.ok ? c.hostSNIs.filter((h) => h !== '*' && !h.startsWith('**.')) : []];
        for (const d of domains) if (orderable(d) && !(sans && covered(d))) m.ensure(d);
      }
      // Not beside defaultCertificate, which has precedence (Traefik's acme provider watchNewDomains).
      const defaultStore = snap.config.tls.stores['default'];
      const g =
        defaultStore?.defaultCertificate === undefined ? defaultStore?.defaultGeneratedCert : undefined;
      const gNames = g === undefined ? [] : [g.domain.main, ...g.domain.sans];
      if (g !== undefined && orderable(gNames)) byName.get(g.resolver)?.ensure(gNames);
      for (const t of tailscale) t.endPass();
    },
  };
}

/** The entry points that listen for UDP (`address: ":53/udp"`). */
function udpEntryPointNames(config: StaticConfig): string[] {
  return Object.entries(config.entryPoints)
    .filter(([, ep]) => isUdpEntryPoint(ep))
    .map(([n]) => n);
}

/**
 * The names a router's certResolver obtains a certificate for when it has no tls.domains: as
 * Traefik's ACME provider (pkg/provider/acme, httpmuxer.ParseDomains), every Host value of the
 * rule, also one a match does not require (`Host(a) || PathPrefix(/x)`), but a negated one
 * (v3.7.13); a double wildcard `**.example.com` is left out, as Traefik v3.8's resolvers ignore
 * it (traefik/traefik#13882).
 */
function hostNames(rule: string, syntax: string | undefined): string[] {
  const parsed = parseRuleSyntax(rule, syntax);
  return parsed.ok ? [...new Set(hostMatcherValues(parsed.ast).filter((h) => !h.startsWith('**.')))] : [];
}

/**
 * The errors an API write would cause: a fresh cache per trial (pools are lazy and shared state
 * is closed again, so nothing leaks). Errors of other providers' objects are theirs: they are
 * disabled whatever the API holds, and must not refuse the write.
 */
function trialBuild(merged: DynamicConfig, logger: Logger, opts: BuildOptions): readonly ConfigIssue[] {
  const ticker = new Ticker();
  const cache = new ResourceCache(ticker);
  try {
    return buildSnapshot(merged, 0, cache, logger, opts).issues.filter((i) => {
      if (i.severity !== 'error') return false;
      const at = objectAt(i.path);
      return at === undefined || at.name.endsWith('@api');
    });
  } finally {
    cache.closeAll();
    ticker.stop();
  }
}

/**
 * The plugins (static `experimental.localPlugins`, and `experimental.plugins` installed from
 * Traefik's catalog), imported, and the maker of their
 * middlewares; undefined when there are none (the module is not even loaded), null when one
 * failed to load and `abortOnPluginFailure` is set (already logged).
 */
async function setupPlugins(
  config: StaticConfig,
  staticFile: string | undefined,
  logger: Logger,
  plane: Plane,
): Promise<{ host: PluginHost; middlewares: PluginMiddlewares } | undefined | null> {
  const exp = config.experimental;
  if (exp === undefined) return undefined;
  if (Object.keys(exp.localPlugins).length === 0 && Object.keys(exp.plugins).length === 0) return undefined;
  const { loadLocalPlugins, pluginMiddlewares } = await import('./plugins/index.ts');
  // Catalog plugins: installed by the control plane (or the only process) before any worker
  // starts; a worker loads what it installed.
  const remote =
    Object.keys(exp.plugins).length === 0
      ? []
      : await (await import('./plugins/remote.ts')).setupRemotePlugins(exp.plugins, {
          download: plane.role !== 'worker',
          logger,
        });
  const host = await loadLocalPlugins(exp.localPlugins, staticFile, logger, undefined, remote);
  if (host.unusable.length > 0 && exp.abortOnPluginFailure) {
    logger.error('a plugin could not be loaded and experimental.abortOnPluginFailure is set: not starting');
    return null;
  }
  return { host, middlewares: pluginMiddlewares(host) };
}

/** Where the static configuration came from: the file looked for, and Traefik's line for the source. */
type RunSource = ConfigLookup & { readonly loaded: string | undefined };

async function run(
  given: StaticConfig,
  source: RunSource,
  staticWarnings: readonly ConfigIssue[],
): Promise<number> {
  // log.filePath (relative to the working folder, as Traefik and the access log read it): the
  // file, rotated by the control plane (or the only process); workers append to it.
  let logFile: LogFile | undefined;
  if (given.log.filePath !== undefined) {
    try {
      logFile = new LogFile({
        path: given.log.filePath,
        maxSizeMb: given.log.maxSize,
        maxBackups: given.log.maxBackups,
        maxAgeDays: given.log.maxAge,
        owner: process.env[WORKER_SLOT_ENV] === undefined,
        onError: (m) => process.emitWarning(m),
      });
    } catch (e) {
      // No logger: the static file's warnings go where they went before it existed.
      for (const i of staticWarnings) process.stderr.write(`${formatIssue(i)}\n`);
      process.stderr.write(
        `traffic: cannot open the log file ${given.log.filePath}: ${(e as Error).message}\n`,
      );
      return 1;
    }
  }
  // log.otlp: the records go to the exporter too, once it is set up below (kept until then).
  const logTee =
    given.log.otlp === undefined
      ? undefined
      : new (await import('./observability/otlp-logs.ts')).DeferredLogTee();
  const rootLogger = createLogger({
    level: given.log.level,
    format: given.log.format === 'json' ? 'json' : 'text',
    ...(logFile === undefined ? {} : { write: logFile.write }),
    tee: logTee,
  });
  // `workers: N`: this process is the control plane or one data-plane worker (src/workers).
  const plane = await planeFor(given, rootLogger);
  // A data-plane worker runs no provider: its spare configuration process has nothing to answer.
  if (plane.role === 'worker') dropSpareConfigProcess();
  // A worker enforces its share of the static caps (connections, body memory): the configured
  // figures are the whole proxy's.
  const config =
    plane.role === 'worker'
      ? (await import('./workers/split-limits.ts')).splitStaticLimits(given, plane.data.workers)
      : given;
  const logger = plane.role === 'worker' ? rootLogger.child({ worker: plane.data.slot }) : rootLogger;
  // Options that lower the guard, said once at startup as Traefik says them (not by each worker).
  if (plane.role !== 'worker') {
    // Traefik's loaders say which source they read ("Configuration loaded from file: …",
    // pkg/cli/loader_file.go; "… from flags", "… from environment variables."): at INFO here, in
    // the configured log (Traefik v3 logs it at DEBUG before its logger is set up, which hides it;
    // v2 showed it at INFO).
    if (source.loaded !== undefined)
      logger.info(source.loaded, source.file === undefined ? {} : { file: source.file });
    // The static file's warnings, held until now: structured lines at WARN like every other
    // (ERROR for those Traefik logs as errors: ConfigIssue.logAs), located in the message
    // (`file:line:col: warning: key: …`) and in fields: Traefik's runCmd (cmd/traefik/traefik.go)
    // sets its logger up first, and the static configuration's checks (SetEffectiveConfiguration,
    // the deprecation notices, getLogLevel, the resolvers' setup) log through it.
    for (const i of staticWarnings) {
      const { level, text } = issueLogLine(i);
      logger[level](text, issueLogFields(i));
    }
    for (const n of securityNotices(given)) logger[n.level](n.msg, n.fields);
  }
  // Traefik's setupServer (cmd/traefik/traefik.go): with spiffe.workloadAPIAddr, the X.509 SVID is
  // fetched before anything serves, waiting for it as go-spiffe's NewX509Source does. Each
  // process that builds configurations (the control plane and every worker) has its own.
  const workloadAPIAddr = config.spiffe?.workloadAPIAddr ?? '';
  if (workloadAPIAddr !== '') {
    const spiffe = await import('./upstream/spiffe.ts');
    let source: InstanceType<typeof spiffe.SpiffeWorkloadSource>;
    try {
      source = new spiffe.SpiffeWorkloadSource(workloadAPIAddr, logger);
    } catch (e) {
      logger.error('unable to create SPIFFE x509 source', { error: (e as Error).message });
      return 1;
    }
    logger.info('Waiting on SPIFFE SVID delivery', { workloadAPIAddr });
    await source.start();
    spiffe.setSpiffeSource(source);
    logger.info('Successfully obtained SPIFFE SVID.', { spiffeId: source.identity?.id ?? null });
  }
  const ticker = new Ticker();
  const cache = new ResourceCache(ticker, config.experimental?.http2Engine ?? 'own');
  const ref = new SnapshotRef(EMPTY_SNAPSHOT);
  // Without a listening socket the event loop empties and the process would end with 0 at once,
  // which a supervisor reads as "finished fine".
  if (Object.keys(config.entryPoints).length === 0) {
    logger.error(
      source.file === undefined
        ? `no entry point is defined: nothing to listen on (no configuration file was found in ${describeSearch(source.searched)}; name one with --config)`
        : 'no entry point is defined: nothing to listen on',
      { file: source.file ?? null },
    );
    return 1;
  }
  const accessLogPath = config.accessLog?.filePath ?? '';
  if (accessLogPath !== '') {
    // AccessLog opens its file asynchronously and would then drop (and hold) every line: a path
    // that cannot be opened is a configuration error, reported before any entry point opens.
    try {
      // Its folder is made first, as Traefik's openAccessLogFile does (os.MkdirAll, 0755).
      mkdirSync(dirname(accessLogPath), { recursive: true, mode: 0o755 });
      closeSync(openSync(accessLogPath, 'a', ACCESS_LOG_MODE));
    } catch (e) {
      logger.error('cannot open the access log', { filePath: accessLogPath, error: e });
      return 1;
    }
  }
  // accessLog.otlp (Traefik's NewHandler with config.OTLP): the records go to their own exporter,
  // set up as log.otlp's (types/logs.go OTelLog.NewLoggerProvider); one that cannot be set up
  // leaves the access log on its file or stdout.
  let accessLogExporter: OtlpLogExporter | null = null;
  const alo = config.accessLog?.otlp;
  if (alo !== undefined) {
    const target = await otlpTarget(alo, 'accessLog.otlp', logger);
    if (target !== null) {
      try {
        accessLogExporter = new (await import('./observability/otlp-logs.ts')).OtlpLogExporter(
          {
            ...target.target,
            ...logBatchOptions(target.batch('BLRP')),
            section: 'accessLog.otlp',
            serviceName: alo.serviceName,
            resourceAttributes: {
              ...target.detected,
              'service.version': packageVersion(),
              ...alo.resourceAttributes,
              ...target.envResource,
            },
          },
          logger,
        );
        accessLogExporter.reportTo(logger);
      } catch (e) {
        logger.error(`accessLog.otlp: ${e instanceof Error ? e.message : String(e)}; the exporter is off`);
      }
    }
  }
  const accessLog =
    config.accessLog === undefined
      ? null
      : createAccessLog(config.accessLog, logger, accessLogExporter ?? undefined);
  const prom = config.metrics?.prometheus;
  const otlpMetrics = config.metrics?.otlp;
  const { statsD, datadog, influxDB2 } = config.metrics ?? {};
  const pushBuckets =
    statsD === undefined && datadog === undefined && influxDB2 === undefined
      ? []
      : (await import('./observability/metrics/push-lines.ts')).PUSH_BUCKETS;
  // One registry for every exporter: it holds the union of their buckets and label switches, and
  // each exporter keeps its own (otlp-metrics.ts filterExposition and encodeMetrics, push-lines.ts).
  const exporters = [
    prom && { ...prom },
    otlpMetrics && { ...otlpMetrics, buckets: otlpMetrics.explicitBoundaries },
    ...[statsD, datadog, influxDB2].map((e) => e && { ...e, buckets: pushBuckets }),
  ].filter((e) => e !== undefined);
  const metrics =
    exporters.length === 0
      ? null
      : new (await import('./observability/metrics/index.ts')).TrafficMetrics({
          buckets: exporters.flatMap((e) => e.buckets),
          addEntryPointsLabels: exporters.some((e) => e.addEntryPointsLabels),
          addRoutersLabels: exporters.some((e) => e.addRoutersLabels),
          addServicesLabels: exporters.some((e) => e.addServicesLabels),
          // Prometheus's only: Traefik's OTLP counters have no header labels.
          headerLabels: prom?.headerLabels ?? {},
        });
  // metrics.otlp: Traefik's semantic-convention histograms too (otel.go NewSemConvMetricRegistry),
  // with the exporter's explicitBoundaries; they go to the OTLP exporter only.
  if (metrics !== null && otlpMetrics !== undefined)
    metrics.semconv = new (await import('./observability/metrics/semconv.ts')).SemConvMetrics(
      otlpMetrics.explicitBoundaries,
    );
  // The series of routers and services a reload removed go after the next scrape (Traefik's).
  metrics?.pruneAfterScrape(() => liveNames(ref.current));
  const tc = config.tracing;
  const tracesTarget = tc === undefined ? null : await otlpTarget(tc.otlp, 'tracing.otlp', logger);
  let tracer: Tracer | null = null;
  if (tc !== undefined && tracesTarget !== null) {
    try {
      const tracing = await import('./observability/tracing/index.ts');
      tracer = new tracing.Tracer(
        {
          // Traefik's autoprop.NewTextMapPropagator reads OTEL_PROPAGATORS.
          propagation: tracing.parsePropagators(process.env.OTEL_PROPAGATORS, (msg) => logger.warn(msg)),
          ...tracesTarget.target,
          serviceName: tc.serviceName,
          sampleRate: tc.sampleRate,
          // Traefik's resource (types/tracing.go Setup): service.name, service.version, then
          // resourceAttributes, or the deprecated globalAttributes when it is absent
          // (static.Configuration.SetEffectiveConfiguration), then the environment's.
          globalAttributes: {
            ...tracesTarget.detected,
            'service.version': packageVersion(),
            ...(tc.resourceAttributes ?? tc.globalAttributes ?? {}),
            ...tracesTarget.envResource,
          },
          ...batchOptions(tracesTarget.batch('BSP')),
          capturedRequestHeaders: tc.capturedRequestHeaders,
          capturedResponseHeaders: tc.capturedResponseHeaders,
          safeQueryParams: tc.safeQueryParams,
        },
        logger,
      );
    } catch (e) {
      // Traefik's setupGRPCExporter: an endpoint net.SplitHostPort refuses; no tracer then.
      logger.error(`tracing.otlp: ${e instanceof Error ? e.message : String(e)}; tracing is off`);
    }
  }
  // log.otlp (Traefik's SetupOTelLogger): a bad section leaves the log on its usual output only.
  let logExporter: OtlpLogExporter | null = null;
  if (logTee !== undefined) {
    const lo = config.log.otlp;
    const logsTarget = await otlpTarget(lo, 'log.otlp', logger);
    if (lo !== undefined && logsTarget !== null) {
      try {
        logExporter = new (await import('./observability/otlp-logs.ts')).OtlpLogExporter(
          {
            ...logsTarget.target,
            ...logBatchOptions(logsTarget.batch('BLRP')),
            serviceName: lo.serviceName,
            resourceAttributes: {
              ...logsTarget.detected,
              'service.version': packageVersion(),
              ...lo.resourceAttributes,
              ...logsTarget.envResource,
            },
          },
          logger,
        );
        logExporter.reportTo(logger);
      } catch (e) {
        logger.error(`log.otlp: ${e instanceof Error ? e.message : String(e)}; the exporter is off`);
      }
    }
    logTee.attach(logExporter);
  }
  const tlsSetup = await setupTls(config, logger, plane);
  if (tlsSetup === null) return 1;
  // Local plugins are imported before any entry point opens; one that cannot be is logged, and
  // the middlewares naming it are disabled (Traefik's default), or nothing starts.
  const plugins = await setupPlugins(config, source.file, logger, plane);
  if (plugins === null) return 1;

  // Every entry point is a proxy entry point: the API, dashboard, ping and metrics are routes
  // there (runtime/internal-services.ts), beside whatever routers the configuration puts there.
  const listened = listenedEntryPoints(config);
  const listeners: HttpListener[] = [];
  // Tunnels and streaming responses, reviewed after each reload (a removed route closes them).
  const longLived = new LongLivedRegistry(ticker);
  // Overload protection (overload/): one manager for the process, one gate per entry point.
  const ov = config.overload;
  const overload = new OverloadManager(
    {
      maxEventLoopDelayMs: ov.maxEventLoopDelay,
      maxHeapUsedRatio: ov.maxHeapUsedRatio,
      maxRequestBodyBytes: ov.maxRequestBodyBytes,
      retryAfterSeconds: Math.ceil(ov.retryAfter / 1000),
    },
    logger.child({ component: 'overload' }),
  );
  const gates: EntryPointGate[] = [];
  // Static hostResolver (Traefik's requestdecorator): one cache for every entry point.
  const hr = config.hostResolver;
  const flattener =
    hr?.cnameFlattening === true
      ? new CnameFlattener({ resolvConfig: hr.resolvConfig, resolvDepth: hr.resolvDepth, logger })
      : null;
  const dispatchers: EntryPointDispatcher[] = [];
  const forwarders: TcpForwarder[] = [];
  const l4Metrics =
    metrics === null ? null : new (await import('./observability/metrics/layer4.ts')).Layer4Metrics();
  if (l4Metrics !== null) metrics?.addCollector(l4Metrics.collector);
  const gate = new TlsGate(ref, logger, async () => {
    const { TlsFront } = await import('./listeners/tls-front.ts');
    // Workers share one ticket secret: a session resumes on any of them.
    const secret = plane.role === 'worker' ? (await plane.data.init()).ticketSecret : undefined;
    const tickets =
      secret === undefined ? undefined : new (await import('./tls/index.ts')).SessionTicketKeys({ secret });
    return (entryPoint, onSecure) =>
      new TlsFront({
        ref,
        logger,
        entryPoint,
        onSecure,
        challenges: tlsSetup.alpn,
        ocsp: tlsSetup.ocsp,
        handshakeTimeoutMs:
          config.entryPoints[entryPoint]?.transport.respondingTimeouts.readHeaderTimeout ?? 10_000,
        ...(tickets !== undefined ? { tickets } : {}),
      });
  });
  const udpEntryPoints: UdpEntryPoint[] = [];
  // A worker binds the ports the first worker bound (`:0` resolved), each with SO_REUSEPORT; the
  // control plane binds none.
  const init = plane.role === 'worker' ? await plane.data.init() : null;
  const boundPorts: Record<string, number> = {};
  const handlesTlsChallenge = Object.values(config.certificatesResolvers ?? {}).some(
    (r) => r.acme?.tlsChallenge !== undefined,
  );
  for (const [name, ep] of plane.role === 'control' ? [] : listened) {
    const addr = parseAddress(ep.address);
    if ('error' in addr) throw new Error(`entry point ${name}: ${addr.error}`);
    const port = init?.ports[name] ?? addr.port;
    if (addr.udp === true) {
      // node:dgram is loaded only when a UDP entry point exists.
      const { UdpEntryPoint } = await import('./listeners/udp-entry-point.ts');
      const u = new UdpEntryPoint(
        { name, snapshots: ref, ticker, logger, timeoutMs: ep.udp.timeout, metrics: l4Metrics },
        addr.host !== undefined && isIPv6(addr.host),
        // Traefik's entry point `reusePort` (newListenConfig): SO_REUSEPORT, for UDP too.
        init !== null || ep.reusePort,
      );
      try {
        const bound = await u.listen(addr.host ?? '', port);
        boundPorts[name] = bound.port;
        logger.info('entry point listening', {
          entryPoint: name,
          address: `${bound.address}:${bound.port}`,
          protocol: 'udp',
        });
      } catch (e) {
        logger.error('cannot listen', { entryPoint: name, address: ep.address, error: e });
        for (const l of listeners) await l.shutdown(0);
        return 1;
      }
      udpEntryPoints.push(u);
      continue;
    }
    const ovGate = new EntryPointGate(
      name,
      overload,
      {
        maxConnections: ep.transport.maxConnections,
        maxConnectionsPerIp: ep.transport.maxConnectionsPerIP,
      },
      trustedMatcher(ep.forwardedHeaders.trustedIPs, ep.forwardedHeaders.insecure),
    );
    gates.push(ovGate);
    const ctx = entryPointContext(
      name,
      ep,
      addr.port,
      ref,
      ticker,
      logger,
      accessLog,
      metrics,
      tracer,
      longLived,
      ovGate,
      flattener,
    );
    // One entry point serves cleartext HTTP and HTTPS side by side (Traefik's router-level TLS):
    // two HTTP sides, one per scheme, behind one listening socket and its dispatcher.
    const secureCtx: EntryPointContext = { ...ctx, scheme: 'https' };
    const h2 = {
      maxConcurrentStreams: ep.http2.maxConcurrentStreams,
      headerTableSize: ep.http2.maxDecoderHeaderTableSize,
    };
    const engine = config.experimental?.http2Engine ?? 'own';
    const listener = new HttpListener(ctx, h2, engine);
    const secure = new HttpListener(secureCtx, h2, engine);
    gate.addEntryPoint(name, (s) => secure.handle(s, s.alpnProtocol === 'h2' ? 'h2' : 'h1'));
    const forwarder = new TcpForwarder({
      entryPoint: name,
      ticker,
      logger,
      accessLog,
      metrics: l4Metrics,
      terminate: (s, buffered, hello, options, onSecure) =>
        gate.handshake(name, s, buffered, hello, options, onSecure),
    });
    forwarders.push(forwarder);
    const t = ep.transport.respondingTimeouts;
    const dispatcher = new EntryPointDispatcher({
      entryPoint: name,
      snapshots: ref,
      ticker,
      logger,
      // Traefik bounds the peek of the first bytes by readTimeout (pkg/server/
      // server_entrypoint_tcp.go Start: the connection's read deadline before the TCP router
      // peeks); ours by readHeaderTimeout too, whichever is shorter (integration TestDDOS).
      firstBytesTimeoutMs:
        t.readTimeout > 0 ? Math.min(t.readTimeout, t.readHeaderTimeout) : t.readHeaderTimeout,
      serverFirstTimeoutMs: t.serverFirstTimeout,
      alwaysPeek: tlsSetup.alpn !== null,
      // As Traefik's pkg/server/routerfactory.go NewRouterFactory: acme-tls/1 ClientHellos are
      // routed like any other unless a resolver of the static configuration answers tls-alpn-01
      // (`allowACMEByPass || !handlesTLSChallenge`).
      acmeBypass: ep.allowACMEByPass || !handlesTlsChallenge,
      proxyProtocol:
        ep.proxyProtocol === undefined
          ? null
          : { trusted: trustedMatcher(ep.proxyProtocol.trustedIPs, ep.proxyProtocol.insecure) },
      targets: {
        http: (s) => listener.handle(s, 'detect'),
        https: (s, buffered, hello) => gate.handshake(name, s, buffered, hello),
        tcp: (s, m, buffered, hello, postgres) => forwarder.serve(s, m.value, buffered, hello, postgres),
      },
    });
    listener.setFront((socket) => dispatcher.accept(socket));
    // An entry point without TLS routers reads no first bytes; a ClientHello that reaches HTTP
    // there still gets TLS, as Traefik's always-set httpsForwarder gives it
    // (pkg/server/router/tcp/manager.go buildEntryPointHandler; integration
    // TestWithSNIDynamicConfigRouteWithChange).
    listener.setTlsFallback((socket) => dispatcher.acceptTls(socket));
    dispatchers.push(dispatcher);
    try {
      // Traefik's entry point `reusePort` (pkg/server/server_entrypoint_listenconfig_unix.go):
      // SO_REUSEPORT, as a data-plane worker's socket has it anyway.
      const bound = await listener.listen(addr.host ?? '', port, init !== null || ep.reusePort);
      boundPorts[name] = bound.port;
      (ctx as { port: string }).port = String(bound.port);
      (secureCtx as { port: string }).port = String(bound.port);
      tlsSetup.bound(name, bound.port);
      logger.info('entry point listening', { entryPoint: name, address: `${bound.address}:${bound.port}` });
    } catch (e) {
      logger.error('cannot listen', { entryPoint: name, address: ep.address, error: e });
      for (const l of listeners) await l.shutdown(0);
      return 1;
    }
    listeners.push(listener, secure);
  }
  if (tlsSetup.buildOptions.tls !== undefined) await gate.load();

  // The admin server listens privately; the internal services forward to it (the bridge).
  // A worker's internal services forward to the control plane's bridge.
  const bridge =
    enabledInternalServices(config).size === 0 || init !== null
      ? null
      : await (await import('./admin/bridge.ts')).listenBridge();
  const bridgeSecret = init?.bridge?.secret ?? newBridgeSecret();
  const bridgeAt = init === null ? bridge : init.bridge;
  const internal = bridgeAt === null ? undefined : internalServicesFor(config, bridgeAt, bridgeSecret);
  const defaults = defaultEntryPoints(config);
  const trialOptions: BuildOptions = {
    defaultEntryPoints: defaults,
    providersPrecedence: config.providers.precedence,
    cnameFlattening: config.hostResolver?.cnameFlattening === true,
    udpEntryPoints: udpEntryPointNames(config),
    entryPointModel: entryPointModelFor(config),
    // Traefik leaves its internal routers out of access logs, metrics and traces unless
    // `addInternals` (pkg/server/middleware/observability.go): decided per route (runtime/observe.ts).
    addInternals: {
      accessLog: config.accessLog?.addInternals ?? false,
      metrics: config.metrics?.addInternals ?? false,
      tracing: config.tracing?.addInternals ?? false,
    },
    ...(config.serversTransport !== undefined ? { defaultTransport: config.serversTransport } : {}),
    ...(config.tcpServersTransport !== undefined
      ? { defaultTcpTransport: defaultTcpTransport(config.tcpServersTransport) }
      : {}),
    ...(internal !== undefined ? { internal } : {}),
    ...(plugins !== undefined ? { plugins: plugins.middlewares } : {}),
  };
  // Mutable: TLS joins it when a configuration first asks for it (tlsSetup.loadTls).
  const buildOptions: { -readonly [K in keyof BuildOptions]: BuildOptions[K] } = {
    ...tlsSetup.buildOptions,
    ...trialOptions,
    // Workers: active health checks probe in the control plane only, the workers mirror them.
    ...(plane.role === 'control' ? { activeHealth: plane.control.health } : {}),
    ...(plane.role === 'worker' ? { activeHealth: plane.data.health } : {}),
  };
  if (plane.role === 'worker') {
    // A data-plane worker: no providers, watcher, API or ACME; configurations come from the
    // control plane. What follows mirrors the single process's reload hooks and shutdown.
    const data = plane.data;
    let settledHeap = false;
    // Each worker samples its own loop and heap (the overload signals), from its first swap on.
    const sampling = config.overload.maxEventLoopDelay > 0 || config.overload.maxHeapUsedRatio > 0;
    const signals = sampling ? new ProcessSignals(config.overload.maxEventLoopDelay) : null;
    if (metrics !== null) metrics.addCollector(overloadCollector(overload, gates, sampling));
    const stopParentWatch = watchParent(processHost(PARENT_AT_START), () => void data.stop('parent exited'));
    // A first ClientHello in a worker started without TLS: loaded, the snapshot built again.
    gate.onDemand(() => data.wantTls());
    data.serve({
      ref,
      cache,
      logger,
      buildOptions: () => buildOptions,
      loadTls: async () => {
        buildOptions.tls = await tlsSetup.loadTls();
        await gate.load();
      },
      onTlsRefused: () => gate.refused(),
      onCommit: (snap) => {
        if (signals !== null) {
          signals.start((s) => overload.observe(s));
          signals.forgive();
        }
        longLived.review(snap.config);
        if (snap.tls !== null) gate.ready();
        tlsSetup.ensure(snap);
        if (!settledHeap) {
          settledHeap = true;
          setImmediate(() => {
            settleHeap();
            capYoungGeneration();
            limitOldGenerationGrowth();
            signals?.forgive(); // our own pause, not load
          });
        }
      },
      metrics,
      acme: tlsSetup.acmeMirror,
      ocsp: tlsSetup.ocspMirror,
      reopenLogs: () => accessLog?.reopen(),
      shutdown: async (signal) => {
        const grace = Math.max(0, ...listened.map(([, e]) => e.transport.lifeCycle.graceTimeOut));
        logger.info('shutting down', { signal, graceMs: grace });
        stopParentWatch();
        signals?.stop();
        for (const d of dispatchers) d.close();
        gate.close();
        await Promise.all([
          ...listeners.map((l) => l.shutdown(grace)),
          ...forwarders.map((f) => f.shutdown(grace)),
          ...udpEntryPoints.map((u) => u.close()),
        ]);
        await tracer?.close();
        tlsSetup.stop();
        cache.closeAll();
        ticker.stop();
        await accessLog?.close();
        logger.info('stopped');
      },
    });
    data.listening(boundPorts);
    process.once('SIGTERM', () => void data.stop('SIGTERM'));
    process.once('SIGINT', () => void data.stop('SIGINT'));
    // The worker ends by process.exit once drained (DataPlane.stop).
    return await new Promise<number>(() => {});
  }

  const providers: SupervisedProvider[] = [];
  // Every provider is supervised (restarted with backoff, its last good configuration kept while
  // it is down) and throttled by providersThrottleDuration, except the file provider, which
  // coalesces its own events, and the API, whose writers wait for their outcome.
  const supervise = (p: Provider): void => {
    const throttleMs = p.name === 'file' || p.name === 'api' ? 0 : config.providers.providersThrottleDuration;
    // A plugin whose module changed is imported again before the next configuration is built.
    const watched = plugins === undefined ? p : refreshingPlugins(p, plugins.host);
    providers.push(new SupervisedProvider(watched, { logger, throttleMs }));
  };
  const dynamicNames = dynamicProviderNames(config.providers);
  const fileEnabled = config.providers.file !== undefined;
  const knownProviders = [
    ...(fileEnabled ? ['file'] : []),
    ...dynamicNames,
    ...(config.api !== undefined ? ['api'] : []),
    ...(config.providers.rest !== undefined ? ['rest'] : []),
  ];
  const others = (self: string): string[] => knownProviders.filter((n) => n !== self);
  const fileOpts = fileProviderOptions(config, source.file, {
    checkRule,
    checkBreakerExpression,
    knownProviders: others('file'),
  });
  if (fileOpts !== undefined)
    supervise(new FileProvider({ ...fileOpts, validate: validateFilesInChild, logger }));
  else dropSpareConfigProcess();
  const validation = {
    checkRule,
    checkBreakerExpression,
    // Admin entry points too: a router may share them with the API (as the file provider's).
    entryPoints: listened.map(([n]) => n),
    internalServices: enabledInternalServices(config),
    certResolvers: Object.keys(config.certificatesResolvers ?? {}),
    knownProviders,
    hintRuleSyntax: config.core?.defaultRuleSyntax ?? 'v3',
  };
  for (const p of await createDynamicProviders(config.providers, {
    logger,
    entryPointPorts: entryPointPorts(listened),
    // Traefik's SetEffectiveConfiguration: the entry points without http.tls (sorted: Go's map order is random).
    nonTlsEntryPoints: listened
      .map(([n]) => n)
      .filter((n) => config.entryPoints[n]?.http.tls === undefined)
      .sort(),
    nginxNonTlsEntryPoints: ingressNginxNonTlsEntryPoints(
      config.entryPoints,
      listened.map(([n]) => n),
    ),
    validation,
  })) {
    supervise(p);
  }
  // Traefik's REST provider: fed by `rest@internal` (the admin server), so made here.
  const rest =
    config.providers.rest === undefined
      ? undefined
      : new (await import('./providers/rest/index.ts')).RestProvider({
          ...validation,
          knownProviders: others('rest'),
        });
  if (rest !== undefined) supervise(rest);
  // The watcher is needed by the API provider's merged check; it reads `providers` only in run().
  // A configuration that first wants TLS is built twice: only the build with TLS is logged.
  const watcher = new ConfigWatcher(providers, ref, cache, logger, buildOptions, { tlsOnDemand: true });
  /**
   * TLS joins the build options of a proxy started without it, then the configuration is built
   * again: when a configuration first terminates TLS, or a first ClientHello arrives (the gate's
   * demand: Traefik answers it with its default store and options, TlsGate). Once.
   */
  let tlsLoading = false;
  const loadTlsThenRebuild = (): void => {
    if (buildOptions.tls !== undefined || tlsLoading) return;
    tlsLoading = true;
    void (async () => {
      try {
        const tls = await tlsSetup.loadTls();
        await gate.load();
        buildOptions.tls = tls;
      } catch (e) {
        tlsLoading = false;
        logger.error('cannot load TLS', { error: String(e) });
        gate.refused();
        return;
      }
      watcher.apply();
    })();
  };
  gate.onDemand(loadTlsThenRebuild);
  let controlServing = false;
  if (plane.role === 'control') {
    const control = plane.control;
    if (tlsSetup.acmeState !== null) control.acmeSource(tlsSetup.acmeState);
    if (tlsSetup.ocspState !== null) control.ocspSource(tlsSetup.ocspState);
    void control.whenServing().then(() => {
      controlServing = true;
      tlsSetup.ensure(ref.current);
    });
    watcher.onOutcome((o) => {
      if (o.applied && o.built !== undefined) control.publish(o.generation, o.built);
    });
    control
      .start(bridge === null ? null : { host: bridge.host, port: bridge.port, secret: bridgeSecret })
      .catch((e: unknown) => {
        // Its own log says why (cannot listen, …): nothing can serve, as in one process.
        logger.error('workers could not start: stopping', { error: String(e) });
        process.exit(1);
      });
  }
  tlsSetup.onChange(() => watcher.apply());
  watcher.onOutcome((o) => {
    const p = providers.find((x) => x.name === o.provider);
    p?.noteOutcome(o.applied, o.issues.filter((i) => i.severity === 'error').length);
  });
  const certFiles = new CertFileWatch(() => watcher.apply(), logger);
  // The pressure signals are read from the first outcome on: loading the code and the first
  // configuration is no overload. Building a configuration blocks the loop (a very large one
  // for seconds): that delay is our own, and no reason to shed the requests that waited for it.
  // The control plane of workers serves no request: nothing to shed, no loop to sample (its
  // timers would only wake it; each worker samples its own).
  const sampling = plane.role !== 'control' && (ov.maxEventLoopDelay > 0 || ov.maxHeapUsedRatio > 0);
  const signals = sampling ? new ProcessSignals(ov.maxEventLoopDelay) : null;
  let settled = false;
  const reloadSettler = new ReloadSettler();
  let settleTimer: NodeJS.Timeout | undefined;
  const oldGenPacer = new OldGenerationPacer();
  watcher.onOutcome((o) => {
    if (signals !== null) {
      signals.start((s) => overload.observe(s));
      signals.forgive();
    }
    if (!o.applied) {
      // TLS is loaded but no snapshot has it: the rebuild that was to bring it was refused.
      // ClientHellos held for it are refused now rather than after the gate's wait (TlsGate.refused).
      if (buildOptions.tls !== undefined && ref.current.tls === null) gate.refused();
      return;
    }
    longLived.review(ref.current.config);
    const snap = ref.current;
    // The first configuration whose routers terminate TLS in a proxy started without it.
    if (snap.tlsWanted) loadTlsThenRebuild();
    if (snap.tls !== null) gate.ready();
    // With workers, ACME orders wait until every worker serves: the CA's validation connects to
    // the entry points they bind (the first outcome's ensure runs then, below).
    if (plane.role !== 'control' || controlServing) tlsSetup.ensure(snap);
    certFiles.follow(ref.current.config);
    if (!settled) {
      // Start-up garbage (code loading, the first build) out once, off the current tick.
      settled = true;
      setImmediate(() => {
        const r = settleHeap();
        capYoungGeneration();
        limitOldGenerationGrowth();
        // That collection is our own start-up work too, not load (see signals above).
        signals?.forgive();
        reloadSettler.reset();
        logger.debug('start-up heap settled', r === null ? { ok: false } : { newSpaceBytes: r });
      });
      return;
    }
    // While they go on, replaced states are collected every 24 MB (core/settle-heap.ts) instead
    // of every ~75 MB as V8 would: the peak RSS while a thousand routes change.
    if (oldGenPacer.afterRebuild()) signals?.forgive(); // our own pause, not load
    // Rebuilds of a large configuration (a provider with a thousand routes changing often) leave
    // V8's heap grown far beyond what stays live, and it keeps those pages. Once the changes have
    // stopped for a second, and only when the heap outside the young generation grew by more
    // than 32 MB since the last time, or the whole heap did and nothing is being served
    // (ReloadSettler), one memory-reducing collection gives them back (one pause, off the
    // request path's hot loop: a reload is rare next to requests).
    clearTimeout(settleTimer);
    const loopBefore = performance.eventLoopUtilization();
    settleTimer = setTimeout(() => {
      // How busy the loop was in the quiet second: serving traffic needs its young generation.
      const r = reloadSettler.afterChanges(performance.eventLoopUtilization(loopBefore).utilization);
      if (r === null) return;
      signals?.forgive(); // our own pause, not load
      // memoryUsage() reads /proc for RSS: only when the line is written.
      if (logger.enabled('debug')) {
        logger.debug('heap settled after reloads', {
          heapTotal: process.memoryUsage().heapTotal,
          newSpaceBytes: r,
        });
      }
    }, 1_000).unref();
  });
  let api: ApiProvider | null = null;
  if (config.api !== undefined) {
    // Read-only too: the persisted API configuration still serves; the AdminServer refuses writes.
    // Modules a proxy without an API, metrics or tracing never loads (resident memory).
    const { ApiProvider } = await import('./providers/api/index.ts');
    api = new ApiProvider({
      persistFile: config.api.persistFile,
      entryPoints: listened.map(([n]) => n),
      internalServices: enabledInternalServices(config),
      certResolvers: Object.keys(config.certificatesResolvers ?? {}),
      knownProviders: others('api'),
      checkRule,
      checkBreakerExpression,
      validateMerged: (own) => {
        const conflicts: ConfigIssue[] = [];
        const merged = watcher.mergedWith('api', own, conflicts);
        return [...conflicts, ...trialBuild(merged, logger, trialOptions)];
      },
    });
    supervise(api);
  }
  const states: ProviderStates = { list: () => providers.map((p) => p.status) };
  if (providers.length === 0)
    logger.warn(
      "no configuration provider: every request but the proxy's own routes (ping, API, metrics) will get 404",
    );
  if (metrics !== null) {
    const { runtimeCollector } = await import('./runtime/metrics-collector.ts');
    metrics.addCollector(runtimeCollector(ref, watcher));
    // With workers the overload figures are theirs (summed at scrape time): the control plane
    // has no entry point, and its unsplit budget would be counted on top of theirs.
    if (plane.role !== 'control') metrics.addCollector(overloadCollector(overload, gates, sampling));
    metrics.addCollector((await import('./runtime/provider-metrics.ts')).providerCollector(states));
  }
  // The whole proxy's exposition: the workers' summed with the control plane's own.
  const wholeExposition =
    metrics === null
      ? null
      : plane.role === 'control'
        ? () => plane.control.renderMetrics(metrics.render())
        : () => metrics.render();
  let promExposition: { render(): string | Promise<string> } | null = null;
  if (prom !== undefined && wholeExposition !== null) {
    if (exporters.length === 1) {
      promExposition = plane.role === 'control' ? { render: wholeExposition } : metrics;
    } else {
      const { filterExposition } = await import('./observability/metrics/otlp-metrics.ts');
      promExposition = { render: async () => filterExposition(await wholeExposition(), prom) };
    }
  }
  // metrics.otlp: pushed from the single process or the control plane (which sums the workers';
  // a worker returned above, its registry is read through the control plane's scrapes).
  const metricsTarget =
    otlpMetrics === undefined || wholeExposition === null
      ? null
      : await otlpTarget(otlpMetrics, 'metrics.otlp', logger);
  let otlpPusher: OtlpMetricsPusher | null = null;
  if (otlpMetrics !== undefined && wholeExposition !== null && metricsTarget !== null) {
    try {
      otlpPusher = new (await import('./observability/metrics/otlp-pusher.ts')).OtlpMetricsPusher(
        {
          ...metricsTarget.target,
          // The periodic reader's export timeout (Traefik sets only its interval).
          processorTimeoutMs: (await import('./observability/otlp-transport.ts')).metricExportTimeout(
            process.env,
            (msg) => logger.warn(`metrics.otlp: ${msg}`),
          ),
          serviceName: otlpMetrics.serviceName,
          // Traefik's resource: service.name, service.version, resourceAttributes, the environment's.
          resourceAttributes: {
            ...metricsTarget.detected,
            'service.version': packageVersion(),
            ...otlpMetrics.resourceAttributes,
            ...metricsTarget.envResource,
          },
          pushIntervalMs: otlpMetrics.pushInterval,
          scopeVersion: packageVersion(),
          filter: { ...otlpMetrics, buckets: otlpMetrics.explicitBoundaries },
          render: wholeExposition,
        },
        logger,
      );
    } catch (e) {
      // Traefik's newGRPCExporter: an endpoint net.SplitHostPort refuses; no meter provider then.
      logger.error(`metrics.otlp: ${e instanceof Error ? e.message : String(e)}; the exporter is off`);
    }
  }
  // metrics.statsD, metrics.datadog, metrics.influxDB2: pushed as metrics.otlp is, from the
  // single process or the control plane.
  const linePushers: LinePusher[] = [];
  if (wholeExposition !== null && pushBuckets.length > 0) {
    const pushing = await import('./observability/metrics/line-pusher.ts');
    const start = (
      e: { pushInterval: number } & FamilySwitches,
      sink: import('./observability/metrics/line-pusher.ts').LineSink,
    ) => {
      linePushers.push(
        new pushing.LinePusher(
          { pushIntervalMs: e.pushInterval, filter: e, render: wholeExposition },
          sink,
          logger,
        ),
      );
    };
    if (statsD !== undefined) start(statsD, pushing.statsdSink(statsD.address, statsD.prefix));
    if (datadog !== undefined)
      start(
        datadog,
        pushing.datadogSink(datadog.address ?? pushing.datadogDefaultAddress(process.env), datadog.prefix),
      );
    if (influxDB2 !== undefined) {
      // Traefik's newInfluxDB2Client: without all three, the error is logged and no metrics are sent.
      if (influxDB2.token === '' || influxDB2.org === '' || influxDB2.bucket === '')
        logger.error('metrics.influxDB2: token, org or bucket property is missing; the exporter is off');
      else
        start(
          influxDB2,
          new pushing.InfluxLineSink({ ...influxDB2, token: readFileOrContent(influxDB2.token) }),
        );
    }
  }
  /** The admin server, told when shutting down (/ping answers terminatingStatusCode then). */
  let adminServer: { terminate(): void } | null = null;
  if (bridge !== null) {
    const { AdminServer, internalObjects, traefikEntryPoint, traefikProviderNames } = await import(
      './admin/index.ts'
    );
    const dashboardAsset =
      config.api?.dashboard === true
        ? (await import('./admin/dashboard/index.ts')).dashboardAssets(config.api.dashboardName)
        : null;
    const server = new AdminServer({
      snapshots: ref,
      watcher,
      api,
      providers: states,
      ...(rest === undefined ? {} : { rest }),
      proxyEntryPoints: defaults,
      // Default entry points first: explain defaults to the first one.
      entryPoints: listened
        .filter(([n]) => defaults.includes(n))
        .concat(listened.filter(([n]) => !defaults.includes(n)))
        .map(([n, e]) => ({ name: n, address: e.address, config: traefikEntryPoint(e) })),
      // Traefik's internal provider's objects, shown by the API (built once: the static configuration).
      internal: internalObjects(config),
      overviewProviders: traefikProviderNames(config.providers),
      version: packageVersion(),
      features: {
        // Traefik's getFeatures: the first backend set, by its field name (v3 traces over OTLP only).
        tracing: config.tracing === undefined ? '' : 'OTLP',
        // Traefik's getFeatures: the first of its Metrics fields that is set, by field name.
        metrics:
          (
            [
              ['Prometheus', prom],
              ['Datadog', datadog],
              ['StatsD', statsD],
              ['InfluxDB2', influxDB2],
              ['OTLP', otlpMetrics],
            ] as const
          ).find(([, e]) => e !== undefined)?.[0] ?? '',
        accessLog: config.accessLog !== undefined,
      },
      auth: config.api?.auth,
      insecure: config.api?.insecure ?? false,
      allowedHosts: config.api?.allowedHosts ?? [],
      readOnly: config.api?.readOnly ?? false,
      basePath: apiBasePath(config.api?.basePath ?? '/'),
      metrics: promExposition,
      dashboard: dashboardAsset,
      logger,
      bridgeSecret,
      staticConfig: config,
      debug: config.api?.debug ?? false,
      ...(config.ping === undefined ? {} : { terminatingStatusCode: config.ping.terminatingStatusCode }),
    });
    adminServer = server;
    bridge.attach(server);
  }

  const stop = new AbortController();
  const watching = watcher.run(stop.signal);
  if (accessLog !== null) process.on('SIGUSR1', () => accessLog.reopen());
  if (accessLog !== null && plane.role === 'control') process.on('SIGUSR1', () => plane.control.reopenLogs());

  return await new Promise<number>((resolve) => {
    let stopping = false;
    const shutdown = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      // lifeCycle.requestAcceptGraceTimeout (Traefik's): requests are still accepted and served
      // for this long, /ping already answering terminatingStatusCode, so that a load balancer
      // that probes it takes us out before the entry points stop accepting.
      const acceptMs = Math.max(
        0,
        ...Object.values(config.entryPoints).map((e) => e.transport.lifeCycle.requestAcceptGraceTimeout),
      );
      adminServer?.terminate();
      if (acceptMs > 0) {
        logger.info('still accepting requests before shutting down', {
          signal,
          requestAcceptGraceMs: acceptMs,
        });
        await new Promise((r) => setTimeout(r, acceptMs));
      }
      const grace = Math.max(
        0,
        ...Object.values(config.entryPoints).map((e) => e.transport.lifeCycle.graceTimeOut),
      );
      logger.info('shutting down', { signal, graceMs: grace });
      stopWatch();
      stop.abort();
      for (const d of dispatchers) d.close();
      gate.close();
      if (plane.role === 'control') {
        // The workers' figures while they still answer; after they exit, the push at the end
        // carries each one's counters as last scraped.
        await Promise.all([otlpPusher?.push(), ...linePushers.map((p) => p.push())]);
        await plane.control.stop(signal, grace);
      }
      await Promise.all([
        ...listeners.map((l) => l.shutdown(grace)),
        ...forwarders.map((f) => f.shutdown(grace)),
        ...udpEntryPoints.map((u) => u.close()),
      ]);
      await bridge?.close();
      await watching.catch(() => {});
      await tracer?.close();
      // The last push: the figures of the requests the drain just finished (Traefik's
      // StopOpenTelemetry shuts the meter provider down, which exports once more).
      await Promise.all([otlpPusher?.close(), ...linePushers.map((p) => p.close())]);
      tlsSetup.stop();
      signals?.stop();
      certFiles.close();
      cache.closeAll();
      ticker.stop();
      await accessLog?.close();
      logger.info('stopped');
      // The log's last records, `stopped` included (Traefik shuts its logger provider down last).
      await logExporter?.close();
      resolve(0);
    };
    process.once('SIGTERM', () => void shutdown('SIGTERM'));
    process.once('SIGINT', () => void shutdown('SIGINT'));
    // Not a signal, but the same end: the parent that ran us (npm, a supervisor) is gone.
    const stopWatch = watchParent(processHost(PARENT_AT_START), (why) => {
      logger.warn('parent process gone: shutting down', { reason: why });
      void shutdown('parent exited');
    });
  });
}

async function main(): Promise<number> {
  // Every module is loaded: configurations and requests get both compilers (core/start-compilers.ts).
  resumeOptimizingCompilers();
  const cmd = parseCommand(process.argv.slice(2), process.env);
  // Without --config, the file is looked for where Traefik looks (cli/config-lookup.ts).
  const lookup = (named: string | undefined): ConfigLookup =>
    named !== undefined ? { file: named, searched: [] } : findConfigFile(process.env, process.cwd());
  // One source of the file, the flags and the TRAEFIK_ variables, as Traefik's loaders pick it.
  const sourceOf = (found: ConfigLookup, overrides: readonly string[]): StaticSource =>
    chooseStaticSource(found.file, overrides, process.env);
  // Without a logger (validate, explain, healthcheck): the file found where Traefik looks, and
  // the ignored sources, on standard error.
  const said = (found: ConfigLookup, overrides: readonly string[], ignored: boolean): StaticSource => {
    const s = sourceOf(found, overrides);
    if (found.file !== undefined && found.searched.length > 0) process.stderr.write(`traffic: ${s.loaded}\n`);
    if (ignored) for (const i of s.ignored) process.stderr.write(`traffic: ${formatIssue(i)}\n`);
    return s;
  };
  switch (cmd.kind) {
    case 'help':
      process.stdout.write(cmd.text);
      return 0;
    case 'version':
      process.stdout.write(`traffic ${cmd.version} (node ${process.versions.node})\n`);
      return 0;
    case 'error':
      process.stderr.write(`traffic: ${cmd.message}\n\n${helpText()}`);
      return 2;
    case 'validate': {
      // Its ignored sources are among the issues it prints.
      const s = said(lookup(cmd.configFile), cmd.overrides, false);
      return (await import('./cli/validate.ts')).runValidate(
        s.file,
        s.argv,
        s.env,
        checkRule,
        checkBreakerExpression,
        (t) => process.stdout.write(t),
        s.ignored,
      );
    }
    case 'healthcheck': {
      const s = said(lookup(cmd.configFile), cmd.overrides, true);
      return (await import('./cli/healthcheck.ts')).runHealthcheck(s.file, s.argv, s.env, (t) =>
        process.stdout.write(t),
      );
    }
    case 'explain': {
      const s = said(lookup(cmd.configFile), cmd.overrides, true);
      return (await import('./cli/explain.ts')).runExplain(
        s.file,
        cmd.request,
        cmd.headers,
        (t) => process.stdout.write(t),
        {
          overrides: s.argv,
          env: s.env,
          ...(cmd.entryPoint !== undefined ? { entryPoint: cmd.entryPoint } : {}),
        },
      );
    }
    case 'run': {
      const found = lookup(cmd.configFile);
      const s = sourceOf(found, cmd.overrides);
      const source: RunSource = { ...found, loaded: s.loaded };
      // The child stays for the file provider's first question (config-process/client.ts).
      const loaded = await loadStaticInChild(
        {
          ...(s.file !== undefined ? { file: s.file } : {}),
          argv: s.argv,
          env: s.env,
        },
        true,
      ).catch((e: unknown) => {
        // No answer (the child hung and was killed, or crashed): the reason, not a stack.
        process.stderr.write(`traffic: ${e instanceof Error ? e.message : String(e)}\n`);
        return undefined;
      });
      if (loaded === undefined) return 1;
      if (loaded.config === undefined || hasErrors(loaded.issues)) {
        // No logger without a configuration: its errors (and warnings) as the terminal shows them.
        for (const i of [...s.ignored, ...loaded.issues]) process.stderr.write(`${formatIssue(i)}\n`);
        return 1;
      }
      // Its warnings wait for the logger (run), which writes them as every other line.
      return run(loaded.config, source, [...s.ignored, ...loaded.issues]);
    }
  }
}

main().then(
  (code) => {
    process.exitCode = code;
    // Exit explicitly, never by letting the loop drain: node's end-of-loop cleanup
    // (Environment::CleanupHandles) waits for every pending write request, and a write left
    // pending by an HTTP/2 session its client destroyed mid-tunnel would make it spin forever.
    // stdout/stderr are synchronous for files and pipes on Linux, so nothing written is lost.
    setImmediate(() => process.exit(code));
  },
  (err: unknown) => {
    process.stderr.write(
      `traffic: fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);

/** Each entry point's configured port (not the one it got: `:0` stays 0), for the Gateway provider. */
function entryPointPorts(
  listened: readonly [string, { readonly address: string }][],
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, ep] of listened) {
    const a = parseAddress(ep.address);
    if (!('error' in a)) out[name] = a.port;
  }
  return out;
}
