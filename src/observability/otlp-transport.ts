/**
 * Which client an OTLP exporter sends with (OTLP/HTTP with protobuf bodies, or OTLP/gRPC), set
 * up from its `http` or `grpc` section and from the standard OTEL_EXPORTER_OTLP_* environment
 * variables as Go's exporters read them under Traefik's options.
 *
 * Go's otlp*http and otlp*grpc read the environment first (otlpconfig getOptionsFromEnv, the
 * generic variable then the signal's own, TRACES_ / METRICS_ / LOGS_) and apply Traefik's options
 * after it. Traefik always sets the endpoint's host and port (WithEndpoint), the headers
 * (WithHeaders, even an empty map) and gzip (WithCompression/WithCompressor), so the variables
 * for those are overridden. What still takes effect:
 * - _TIMEOUT (milliseconds): each export's deadline (10 s by default);
 * - _CERTIFICATE, _CLIENT_CERTIFICATE and _CLIENT_KEY (files): the TLS client settings when the
 *   section has no `tls`;
 * - _INSECURE, and the scheme of _ENDPOINT (`http` = insecure): cleartext even for an `https`
 *   endpoint over HTTP (Traefik only ever adds WithInsecure), or for gRPC without `insecure`;
 * - over HTTP, the path of _ENDPOINT (plus /v1/<signal>) or of the signal's _ENDPOINT (as is)
 *   when Traefik's endpoint has no path of its own (WithURLPath only then).
 * OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME are the resource's (resourceFromEnv).
 */
import { readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { basename } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import type { Logger } from '../core/logger.ts';
import { OtlpGrpcClient } from './otlp-grpc.ts';
import { OtlpHttpClient, type OtlpSender, otlpUrl } from './otlp-http.ts';
import type { OtlpSignal } from './otlp-proto.ts';
import { grpcRetryable, httpRetryable, PROCESSOR_EXPORT_TIMEOUT_MS, RetryingSender } from './otlp-retry.ts';

export type OtlpEnv = Readonly<Record<string, string | undefined>>;

/** An exporter's section: `http` (the default) or `grpc`. */
export interface OtlpExportTarget {
  /** http: scheme://host:port[/path]; grpc: host:port. */
  readonly endpoint: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The section's `tls` as node's options (core/client-tls.ts). */
  readonly tls?: ConnectionOptions | undefined;
  /** Set for a `grpc` section: Traefik's OTelGRPC (`insecure`: cleartext HTTP/2). */
  readonly grpc?: { readonly insecure: boolean } | undefined;
  /** The environment the OTEL_EXPORTER_OTLP_* variables are read from (none when absent). */
  readonly env?: OtlpEnv | undefined;
  /**
   * The export timeout of the batch processor or periodic reader that calls the exporter (Go's
   * ExportTimeout: OTEL_BSP_EXPORT_TIMEOUT, OTEL_BLRP_EXPORT_TIMEOUT, OTEL_METRIC_EXPORT_TIMEOUT),
   * its context's deadline for the export and its retries; 0 = none. Default 30 s.
   */
  readonly processorTimeoutMs?: number | undefined;
}

/** The variables' settings that Traefik's options leave standing (see the module's comment). */
export interface OtlpEnvSettings {
  timeoutMs?: number;
  insecure?: boolean;
  /** Over HTTP, the path when the endpoint has none. */
  urlPath?: string;
  tls?: ConnectionOptions;
}

const DEFAULT_PATH: Readonly<Record<OtlpSignal, string>> = {
  traces: '/v1/traces',
  metrics: '/v1/metrics',
  logs: '/v1/logs',
};

/** Go's path.Clean for an absolute path (cleanPath of otlpconfig). */
function cleanPath(p: string, dflt: string): string {
  const out: string[] = [];
  for (const seg of p.trim().split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  if (out.length === 0 && p.trim() === '') return dflt;
  return `/${out.join('/')}`;
}

/**
 * The OTEL_EXPORTER_OTLP_* settings for one signal, in otlpconfig's order (the generic variable,
 * then the signal's). A value Go cannot parse is reported and skipped, as its envconfig does.
 */
export function exporterEnv(
  signal: OtlpSignal,
  env: OtlpEnv,
  warn: (msg: string) => void,
  readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): OtlpEnvSettings {
  const out: OtlpEnvSettings = {};
  const sig = signal.toUpperCase();
  const get = (name: string): string | undefined => {
    const v = env[`OTEL_EXPORTER_OTLP_${name}`]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const endpoint = (name: string, perSignal: boolean): void => {
    const v = get(name);
    if (v === undefined) return;
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      warn(`OTEL_EXPORTER_OTLP_${name}: "${v}" is not a URL; ignored`);
      return;
    }
    const scheme = u.protocol.slice(0, -1).toLowerCase();
    out.insecure = scheme === 'http' || scheme === 'unix';
    // path.Join(u.Path, "/v1/<signal>") for the generic variable; the signal's own as is, `/` for none.
    const path = u.pathname === '' ? '/' : u.pathname;
    out.urlPath = perSignal ? path : `${path.replace(/\/+$/, '')}${DEFAULT_PATH[signal]}`;
  };
  endpoint('ENDPOINT', false);
  endpoint(`${sig}_ENDPOINT`, true);
  const tls: ConnectionOptions = {};
  let hasTls = false;
  for (const name of ['CERTIFICATE', `${sig}_CERTIFICATE`]) {
    const file = get(name);
    if (file === undefined) continue;
    try {
      tls.ca = readFile(file);
      hasTls = true;
    } catch (e) {
      warn(`OTEL_EXPORTER_OTLP_${name}: ${e instanceof Error ? e.message : String(e)}; ignored`);
    }
  }
  for (const prefix of ['', `${sig}_`]) {
    const certFile = get(`${prefix}CLIENT_CERTIFICATE`);
    const keyFile = get(`${prefix}CLIENT_KEY`);
    if (certFile === undefined || keyFile === undefined) continue;
    try {
      const cert = readFile(certFile);
      const key = readFile(keyFile);
      tls.cert = cert;
      tls.key = key;
      hasTls = true;
    } catch (e) {
      warn(
        `OTEL_EXPORTER_OTLP_${prefix}CLIENT_CERTIFICATE: ${e instanceof Error ? e.message : String(e)}; ignored`,
      );
    }
  }
  if (hasTls) out.tls = tls;
  for (const name of ['INSECURE', `${sig}_INSECURE`]) {
    const v = get(name);
    if (v !== undefined) out.insecure = v.toLowerCase() === 'true';
  }
  for (const name of ['TIMEOUT', `${sig}_TIMEOUT`]) {
    const v = get(name);
    if (v === undefined) continue;
    // strconv.Atoi: an optional sign and decimal digits, in milliseconds.
    if (!/^[+-]?\d+$/.test(v)) {
      warn(`OTEL_EXPORTER_OTLP_${name}: "${v}" is not a whole number of milliseconds; ignored`);
      continue;
    }
    out.timeoutMs = Number(v);
  }
  return out;
}

/**
 * The client an exporter sends with. Throws when a `grpc` endpoint is not `host:port`: Traefik
 * then sets no exporter up (the caller logs it and leaves the signal off).
 */
export function createSender(
  signal: OtlpSignal,
  target: OtlpExportTarget,
  defaultTimeoutMs: number,
  logger: Logger,
): OtlpSender {
  const fromEnv =
    target.env === undefined
      ? {}
      : exporterEnv(signal, target.env, (msg) => logger.warn(`${signal}: ${msg}`));
  const timeoutMs =
    fromEnv.timeoutMs !== undefined && fromEnv.timeoutMs > 0 ? fromEnv.timeoutMs : defaultTimeoutMs;
  const tls = target.tls ?? fromEnv.tls;
  // The processor's context (a timeout of 0 or less sets none, as `if ExportTimeout > 0`).
  const processorMs = target.processorTimeoutMs ?? PROCESSOR_EXPORT_TIMEOUT_MS;
  const processorBudget = processorMs > 0 ? processorMs : Number.POSITIVE_INFINITY;
  if (target.grpc !== undefined) {
    const client = new OtlpGrpcClient({
      signal,
      endpoint: target.endpoint,
      insecure: target.grpc.insecure || fromEnv.insecure === true,
      tls,
      headers: target.headers,
      timeoutMs,
    });
    // Go's gRPC exporters: the export's timeout covers its retries (exportContext), within the
    // processor's context.
    return new RetryingSender(client, {
      retryable: grpcRetryable,
      budgetMs: Math.min(timeoutMs, processorBudget),
    });
  }
  // otlpconfig.NewHTTPConfig cleans the path it ends with (path.Clean), Traefik's or the
  // environment's.
  const u = new URL(otlpUrl(target.endpoint, fromEnv.urlPath ?? DEFAULT_PATH[signal]));
  let url = `${u.protocol}//${u.host}${cleanPath(u.pathname, DEFAULT_PATH[signal])}`;
  // Go's HTTP client chooses its scheme by Insecure alone: the variables can make it cleartext.
  if (fromEnv.insecure === true && url.startsWith('https:')) url = `http:${url.slice(6)}`;
  // Go's HTTP exporters: each attempt has the timeout (http.Client.Timeout), the retries end
  // with the processor's or reader's export context.
  return new RetryingSender(new OtlpHttpClient({ url, headers: target.headers, timeoutMs, tls }), {
    retryable: httpRetryable,
    budgetMs: processorBudget,
  });
}

/**
 * OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME, which Traefik's resource takes last
 * (resource.WithFromEnv after service.name, service.version and resourceAttributes), so that they
 * override them; OTEL_SERVICE_NAME wins over a service.name of the list. As Go's
 * resource/env.go: `key=value` pairs split at commas, key and value trimmed, the value
 * percent-decoded (kept as written when that fails). A pair without `=` (an empty one included)
 * makes the resource partial, which Traefik's resource.New reports as an error: that exporter
 * is not set up. Throws then.
 */
export function resourceFromEnv(env: OtlpEnv): Record<string, string> {
  const attrs = env.OTEL_RESOURCE_ATTRIBUTES?.trim() ?? '';
  const name = env.OTEL_SERVICE_NAME?.trim() ?? '';
  const out: Record<string, string> = {};
  const invalid: string[] = [];
  if (attrs !== '') {
    for (const pair of attrs.split(',')) {
      const eq = pair.indexOf('=');
      if (eq < 0) {
        invalid.push(pair);
        continue;
      }
      const key = pair.slice(0, eq).trim();
      const raw = pair.slice(eq + 1);
      let value: string;
      try {
        value = decodeURIComponent(raw.trim());
      } catch {
        value = raw;
      }
      // attribute.KeyValue.Valid: an empty key is dropped.
      if (key !== '') out[key] = value;
    }
  }
  if (name !== '') out['service.name'] = name;
  if (invalid.length > 0)
    throw new Error(`OTEL_RESOURCE_ATTRIBUTES: partial resource: missing value: [${invalid.join(' ')}]`);
  return out;
}

/**
 * What Traefik's resource detectors find that a process here can say the same way, first in the
 * resource (resource.New: WithHost, WithOS, WithProcess before the service's attributes, which
 * may override them): host.name (os.Hostname), os.type (runtime.GOOS), process.pid,
 * process.executable.name and .path, process.owner (the user, `traefik` when there is none, as
 * EnsureUserEnvVar makes it) and the runtime's name, version and description (Node.js's, where
 * Traefik's are Go's). Not the container and Kubernetes ones, nor telemetry.sdk.*.
 */
export function detectedResource(env: OtlpEnv): Record<string, string | number> {
  let owner: string;
  try {
    owner = userInfo().username;
  } catch {
    owner = env.USER !== undefined && env.USER !== '' ? env.USER : 'traefik';
  }
  const goos: Partial<Record<NodeJS.Platform, string>> = { win32: 'windows', sunos: 'solaris' };
  return {
    'host.name': hostname(),
    'os.type': goos[process.platform] ?? process.platform,
    'process.pid': process.pid,
    'process.executable.name': basename(process.execPath),
    'process.executable.path': process.execPath,
    'process.owner': owner,
    'process.runtime.name': 'nodejs',
    'process.runtime.version': process.versions.node,
    'process.runtime.description': 'Node.js',
  };
}

/** A batch processor's settings from the environment (absent when not set, or not a whole number > 0). */
export interface BatchEnv {
  scheduleDelayMs?: number;
  maxQueue?: number;
  maxBatch?: number;
  /** EXPORT_TIMEOUT (ms); 0 = no deadline. */
  exportTimeoutMs?: number;
}

/**
 * The batch processors' variables, which Traefik leaves to the Go SDK (it passes no option to
 * sdktrace.NewBatchSpanProcessor nor to sdk/log NewBatchProcessor): OTEL_BSP_* for spans,
 * OTEL_BLRP_* for log records — SCHEDULE_DELAY (ms), MAX_QUEUE_SIZE, MAX_EXPORT_BATCH_SIZE,
 * EXPORT_TIMEOUT (ms). A batch larger than the queue is cut down to it (Go: min(512, queue)). An
 * export timeout of 0 or less is no deadline (the processors' `if ExportTimeout > 0`).
 */
export function batchEnv(prefix: 'BSP' | 'BLRP', env: OtlpEnv, warn: (msg: string) => void): BatchEnv {
  const int = (name: string): number | undefined => {
    const v = env[`OTEL_${prefix}_${name}`]?.trim();
    if (v === undefined || v === '') return undefined;
    if (!/^\d+$/.test(v) || Number(v) <= 0) {
      warn(`OTEL_${prefix}_${name}: "${v}" is not a whole number above 0; ignored`);
      return undefined;
    }
    return Number(v);
  };
  const out: BatchEnv = {};
  const delay = int('SCHEDULE_DELAY');
  const queue = int('MAX_QUEUE_SIZE');
  let batch = int('MAX_EXPORT_BATCH_SIZE');
  if (queue !== undefined && (batch ?? 512) > queue) batch = Math.min(512, queue);
  if (delay !== undefined) out.scheduleDelayMs = delay;
  if (queue !== undefined) out.maxQueue = queue;
  if (batch !== undefined) out.maxBatch = batch;
  const timeout = env[`OTEL_${prefix}_EXPORT_TIMEOUT`]?.trim();
  if (timeout !== undefined && timeout !== '') {
    if (/^[+-]?\d+$/.test(timeout)) out.exportTimeoutMs = Math.max(0, Number(timeout));
    else warn(`OTEL_${prefix}_EXPORT_TIMEOUT: "${timeout}" is not a whole number; ignored`);
  }
  return out;
}

/**
 * OTEL_METRIC_EXPORT_TIMEOUT (ms), which the periodic reader reads (sdk/metric env.go
 * envDuration: Traefik passes it WithInterval only): undefined when unset, or not a whole number
 * above 0 (Go then keeps its 30 s, with an error).
 */
export function metricExportTimeout(env: OtlpEnv, warn: (msg: string) => void): number | undefined {
  const v = env.OTEL_METRIC_EXPORT_TIMEOUT?.trim();
  if (v === undefined || v === '') return undefined;
  if (/^[+-]?\d+$/.test(v) && Number(v) > 0) return Number(v);
  warn(`OTEL_METRIC_EXPORT_TIMEOUT: "${v}" is not a whole number above 0; ignored`);
  return undefined;
}
