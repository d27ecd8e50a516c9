import type { ConfigIssue, ConfigPath } from '../issues.ts';
import { issue, sortIssues } from '../issues.ts';
import { matchesPath, type NormalizeOptions, normalizeConfig } from '../normalize.ts';
import { isPlainObject } from '../schema-helpers.ts';
import { parseConfigText } from '../source.ts';
import type { Locator } from '../yaml-source.ts';
import { fromZodIssues } from '../zod-issues.ts';
import {
  DYNAMIC_SECTIONS,
  type DynamicConfig,
  dynamicConfigSchema,
  HTTP_SECTIONS,
  type HttpSection,
} from './schema.ts';
import { DEFAULT_TLS_NAME } from './sections.ts';

/** A named object of the dynamic configuration: `routers/api` (of `http`, or of `tcp`/`udp` by `kind`). */
export interface ObjectRef {
  /** Absent = an `http` object. */
  readonly kind?: 'tcp' | 'udp';
  readonly section: HttpSection;
  readonly name: string;
  /** The object, when it was left out (for the admin API). */
  readonly value?: unknown;
  /** True when `value` passed the schema; false or absent when it is the object as written. */
  readonly parsed?: boolean;
}

export interface ParsedDynamic {
  /**
   * Undefined when the file is rejected whole (YAML syntax error, or a problem outside any named
   * object). Otherwise holds every object that is valid; the invalid ones are in `disabled`.
   */
  readonly config?: DynamicConfig;
  readonly issues: ConfigIssue[];
  readonly locate: Locator;
  readonly disabled: readonly ObjectRef[];
}

export interface ParseDynamicOptions {
  /**
   * The static file, which the file provider reads too (`providers.file.filename` naming it, or
   * its folder): only its dynamic sections (`http`, `tcp`, `udp`, `tls`) are read, its static keys
   * ignored without a word, as Traefik's decoder keeps only the root fields of its dynamic
   * configuration (paerser file.DecodeContent, getRootFieldNames).
   */
  readonly embedded?: boolean;
  /** What `env` returns in Go templates (file-provider files); default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Given what the Go template rendered (file-provider files). */
  readonly onRendered?: (text: string) => void;
}

export function parseDynamic(text: string, file: string, opts: ParseDynamicOptions = {}): ParsedDynamic {
  // Traefik runs every file of its file provider as a Go template (CreateConfiguration), the
  // static file too when the provider reads it.
  const src = parseConfigText(text, file, {
    template: true,
    ...(opts.env !== undefined ? { env: opts.env } : {}),
    ...(opts.onRendered !== undefined ? { onRendered: opts.onRendered } : {}),
  });
  if (src.data === undefined) return { issues: src.issues, locate: src.locate, disabled: [] };
  const top = src.data ?? {};
  if (!isPlainObject(top)) {
    const at = src.locate([]);
    const root = issue('error', 'a configuration file must be a map (key: value)', [], at);
    return { issues: [...src.issues, root], locate: src.locate, disabled: [] };
  }
  let picked: Record<string, unknown> = top;
  if (opts.embedded) {
    // The static keys around them are the static loader's business.
    picked = {};
    for (const [k, v] of Object.entries(top)) {
      if (DYNAMIC_SECTIONS.some((d) => d === k.toLowerCase())) picked[k] = v;
    }
  }
  const r = parseDynamicData(picked, src.locate, { standalone: FILE_DECODER });
  return { ...r, issues: sortIssues([...src.issues, ...r.issues]) };
}

/**
 * Middleware types whose field Traefik does not tag allowEmpty (pkg/config/dynamic/middlewares.go
 * as read, v3.6: only `compress` and `contentType` are). A type that version lacks
 * (`encodedCharacters`, v3.6.4; the Gateway filters' own) is read as empty, its tag unknown.
 */
const STRICT_MIDDLEWARES: ReadonlySet<string> = new Set([
  'addPrefix',
  'stripPrefix',
  'stripPrefixRegex',
  'replacePath',
  'replacePathRegex',
  'chain',
  'ipWhiteList',
  'ipAllowList',
  'headers',
  'errors',
  'rateLimit',
  'redirectRegex',
  'redirectScheme',
  'basicAuth',
  'digestAuth',
  'forwardAuth',
  'inFlightReq',
  'buffering',
  'circuitBreaker',
  'passTLSClientCert',
  'retry',
  'grpcWeb',
  // Plugin map[string]PluginConf: a map, never allowEmpty (`plugin: {}` is refused).
  'plugin',
  // TCP middlewares (pkg/config/dynamic/tcp_middlewares.go): none is tagged allowEmpty.
  'inFlightConn',
]);

/**
 * The nested structs Traefik does not tag allowEmpty (file:"allowEmpty"), as canonical paths where
 * `*` is any name. Read from v3.6's pkg/config/dynamic/http_config.go (ServersLoadBalancer's
 * `healthCheck`, `passiveHealthCheck`, `responseForwarding`; WeightedRoundRobin's `sticky`, whose
 * tag, unlike the load balancer's, has no allowEmpty; ServersTransport's `forwardingTimeouts`),
 * tcp_config.go (TCPServersLoadBalancer's `healthCheck`), middlewares.go (RateLimit's and
 * InFlightReq's `sourceCriterion` and its `ipStrategy`, ForwardAuth's `tls`, PassTLSClientCert's
 * `info` and its `subject` and `issuer`) and pkg/tls/tls.go (Options' `clientAuth`, Store's
 * `defaultCertificate` and `defaultGeneratedCert`, GeneratedCert's `domain`). Tagged allowEmpty there, so read as empty here:
 * a router's `tls` (HTTP and TCP), a load balancer's `sticky` and `sticky.cookie`, a weighted,
 * mirroring or failover service's `healthCheck`, a transport's `spiffe`, a TCP load balancer's
 * `proxyProtocol`, a TCP transport's `tls` and `tls.spiffe`, ipAllowList's and ipWhiteList's
 * `ipStrategy`.
 */
const STRICT_NESTED: readonly (readonly string[])[] = [
  ['http', 'services', '*', 'loadBalancer', 'healthCheck'],
  ['http', 'services', '*', 'loadBalancer', 'passiveHealthCheck'],
  ['http', 'services', '*', 'loadBalancer', 'responseForwarding'],
  ['http', 'services', '*', 'weighted', 'sticky'],
  ['http', 'serversTransports', '*', 'forwardingTimeouts'],
  ['tcp', 'services', '*', 'loadBalancer', 'healthCheck'],
  ['http', 'middlewares', '*', 'rateLimit', 'sourceCriterion'],
  ['http', 'middlewares', '*', 'rateLimit', 'sourceCriterion', 'ipStrategy'],
  ['http', 'middlewares', '*', 'inFlightReq', 'sourceCriterion'],
  ['http', 'middlewares', '*', 'inFlightReq', 'sourceCriterion', 'ipStrategy'],
  ['http', 'middlewares', '*', 'forwardAuth', 'tls'],
  ['http', 'middlewares', '*', 'passTLSClientCert', 'info'],
  ['http', 'middlewares', '*', 'passTLSClientCert', 'info', 'subject'],
  ['http', 'middlewares', '*', 'passTLSClientCert', 'info', 'issuer'],
  ['tls', 'options', '*', 'clientAuth'],
  ['tls', 'stores', '*', 'defaultCertificate'],
  ['tls', 'stores', '*', 'defaultGeneratedCert'],
  ['tls', 'stores', '*', 'defaultGeneratedCert', 'domain'],
];

/**
 * The structs Traefik's file decoder refuses empty (see NormalizeOptions.standalone), from the
 * tags of pkg/config/dynamic: the root's `http`, `tcp`, `udp` and `tls` (dynamic.Configuration),
 * a middleware's type of v3.6 but `compress` and `contentType`, a service's type (`loadBalancer`,
 * `weighted`, `mirroring`, `failover`), a router's `observability`, and STRICT_NESTED. Other
 * structs are read as empty, as Traefik reads its allowEmpty ones.
 */
export const FILE_DECODER: NonNullable<NormalizeOptions['standalone']> = {
  emptySection: (path: ConfigPath): boolean => {
    if (path.length === 1) return true;
    if (path.length === 4) {
      if (path[1] === 'middlewares') return STRICT_MIDDLEWARES.has(String(path[3]));
      if (path[1] === 'services') return true;
      if (path[1] === 'routers' && path[3] === 'observability') return true;
    }
    return matchesPath(path, STRICT_NESTED);
  },
};

/**
 * Reads a configuration that is already plain data (a provider's labels, keys or objects decoded
 * into nested maps of strings) as a file's would be read: Traefik's reading rules, then the schema.
 */
export function parseDynamicData(
  data: Record<string, unknown>,
  locate: Locator,
  opts: Pick<NormalizeOptions, 'quietCase' | 'standalone'> = {},
): ParsedDynamic {
  const norm = normalizeConfig(data, dynamicConfigSchema, { locate, ...opts });
  // Traefik's decoder refuses the whole file (file.DecodeContent: "cannot decode configuration
  // data"): nothing of it is applied.
  if (norm.refused === true) return { issues: norm.issues, locate: norm.locate, disabled: [] };
  const normalized = isPlainObject(norm.data) ? norm.data : {};
  const r = validateShape(normalized, norm.locate);
  return { ...r, issues: sortIssues([...norm.issues, ...r.issues]), locate: norm.locate };
}

/** The named object an issue path lies in, if any: problems there disable only that object. */
function objectOf(path: ConfigPath): ObjectRef | undefined {
  if (path.length < 3 || (path[0] !== 'http' && path[0] !== 'tcp' && path[0] !== 'udp')) return undefined;
  const section = HTTP_SECTIONS.find((s) => s === path[1]);
  if (section === undefined) return undefined;
  return path[0] === 'http'
    ? { section, name: String(path[2]) }
    : { kind: path[0], section, name: String(path[2]) };
}

/**
 * `tls.options.<name>…` for a set other than `default`: a value the schema refuses (a wrong type,
 * an unknown key) leaves that set out, and its routers are served as naming options that do not
 * exist (closing route). The values Traefik's decoder takes as strings and its tlsmanager refuses
 * when it builds the set (an unknown cipher suite, curve, clientAuthType; buildTLSConfig) pass
 * the schema and fail the set when it is compiled (src/tls/tls-options.ts), the `default` one
 * too. Any other issue in the `default` set still refuses the file.
 */
function namedOptionsSetOf(path: ConfigPath): string | undefined {
  if (path.length < 4 || path[0] !== 'tls' || path[1] !== 'options' || typeof path[2] !== 'string')
    return undefined;
  return path[2] === DEFAULT_TLS_NAME ? undefined : path[2];
}

/**
 * `tls.certificates[i]…`: a certificate the schema refuses (no `keyFile`, an unknown key) is left
 * out and the rest of the file applies, as Traefik's tlsmanager UpdateConfigs (pkg/tls/
 * tlsmanager.go) logs "Unable to append certificate" for that certificate and goes on. A
 * `tls.certificates` that is not a list still refuses the file (Traefik's decoder refuses it).
 */
function certificateOf(path: ConfigPath): number | undefined {
  return path.length >= 3 && path[0] === 'tls' && path[1] === 'certificates' && typeof path[2] === 'number'
    ? path[2]
    : undefined;
}

function validateShape(
  data: Record<string, unknown>,
  locate: Locator,
): { config?: DynamicConfig; issues: ConfigIssue[]; disabled: ObjectRef[] } {
  const first = dynamicConfigSchema.safeParse(data, { reportInput: true });
  if (first.success) return { config: first.data, issues: [], disabled: [] };
  const issues = fromZodIssues(first.error.issues, { locate });
  const disabled = new Map<string, ObjectRef>();
  const brokenSets = new Set<string>();
  const brokenCertificates = new Set<number>();
  for (const zi of first.error.issues) {
    const path = zi.path.filter((p): p is string | number => typeof p !== 'symbol');
    const set = namedOptionsSetOf(path);
    if (set !== undefined) {
      brokenSets.add(set);
      continue;
    }
    const certificate = certificateOf(path);
    if (certificate !== undefined) {
      brokenCertificates.add(certificate);
      continue;
    }
    const ref = objectOf(path);
    if (ref === undefined) return { issues, disabled: [] };
    disabled.set(`${ref.kind ?? 'http'}:${ref.section}/${ref.name}`, ref);
  }
  // Copies of the sections that lose an object only (a deep copy of a thousand routers for one
  // broken one was most of the cost of a provider update with an incomplete router).
  const pruned: Record<string, unknown> = { ...data };
  const copied = new Set<string>();
  for (const [key, ref] of disabled) {
    const kind = ref.kind ?? 'http';
    if (!copied.has(kind)) {
      pruned[kind] = { ...(pruned[kind] as Record<string, unknown>) };
      copied.add(kind);
    }
    const part = pruned[kind] as Record<string, Record<string, unknown>>;
    if (!copied.has(`${kind}/${ref.section}`)) {
      part[ref.section] = { ...part[ref.section] };
      copied.add(`${kind}/${ref.section}`);
    }
    disabled.set(key, { ...ref, value: part[ref.section]![ref.name] });
    delete part[ref.section]![ref.name];
  }
  if (brokenSets.size > 0 || brokenCertificates.size > 0) {
    const tls = { ...(pruned['tls'] as Record<string, unknown>) };
    if (brokenSets.size > 0) {
      const options = { ...(tls['options'] as Record<string, unknown>) };
      for (const name of brokenSets) delete options[name];
      tls['options'] = options;
    }
    if (brokenCertificates.size > 0) {
      tls['certificates'] = (tls['certificates'] as unknown[]).filter((_, i) => !brokenCertificates.has(i));
    }
    pruned['tls'] = tls;
  }
  const second = dynamicConfigSchema.safeParse(pruned);
  if (!second.success) return { issues, disabled: [] };
  return { config: second.data, issues, disabled: [...disabled.values()] };
}
