import type { DisabledObject } from '../config/dynamic/disabled.ts';
import { SERVICE_KINDS } from '../config/dynamic/sections.ts';
import type { ServiceConfig } from '../config/dynamic/services.ts';
import { type ConfigIssue, formatIssue } from '../config/issues.ts';
import { providerNameOf, providerOf } from '../core/qualified-name.ts';
import { defaultPriority } from '../router/index.ts';
import { disabledNames, disabledObject, type Kind, record, strings, text } from '../runtime/reached.ts';
import { observabilityView } from './observability-view.ts';
import { redactSecrets } from './redact.ts';
import { traefikInlineConfig, traefikServiceConfig, traefikType } from './traefik-config.ts';
import type { MiddlewareView, RouterView, ServiceView } from './views.ts';

/*
 * Views of the objects a configuration left out because of errors (`status: disabled`, as
 * Traefik's API shows them, with their `issues`). What they hold was checked by nothing when the
 * schema refused it: every field is read for what it is, and missing or odd ones are left empty.
 */

export { disabledNames, disabledObject, type Kind, record, strings, text };

function qualify(name: string, provider: string): string {
  return name === '' || name.includes('@') || provider === '' ? name : `${name}@${provider}`;
}

export function disabledRouterView(
  d: DisabledObject,
  issues: readonly ConfigIssue[],
  allEntryPoints: readonly string[],
): RouterView {
  const r = record(d.value);
  const provider = providerOf(d.name);
  const rule = text(r['rule']);
  const priority = Number(text(r['priority']));
  const eps = strings(r['entryPoints']);
  return {
    name: d.name,
    provider: providerNameOf(d.name),
    rule,
    priority: Number.isInteger(priority) && priority !== 0 ? priority : defaultPriority(rule),
    entryPoints: eps.length > 0 ? eps : allEntryPoints,
    ...(strings(r['middlewares']).length === 0
      ? {}
      : { middlewares: strings(r['middlewares']).map((m) => qualify(m, provider)) }),
    service: qualify(text(r['service']), provider),
    // A root router's, as written (Traefik's applyDefaultObservabilityModel fills every router in).
    ...(r['parentRefs'] === undefined
      ? { observability: observabilityView(writtenObservability(r['observability'])) }
      : {}),
    status: 'disabled',
    issues: issues.map(formatIssue),
  };
}

/** The keys of a written `observability` that have the right type (the others: the defaults). */
function writtenObservability(v: unknown): Partial<Record<'accessLogs' | 'metrics' | 'tracing', boolean>> & {
  traceVerbosity?: 'minimal' | 'detailed';
} {
  const o = record(v);
  const out: Partial<Record<'accessLogs' | 'metrics' | 'tracing', boolean>> & {
    traceVerbosity?: 'minimal' | 'detailed';
  } = {};
  for (const k of ['accessLogs', 'metrics', 'tracing'] as const) {
    const b = o[k];
    if (typeof b === 'boolean') out[k] = b;
  }
  const tv = o['traceVerbosity'];
  if (tv === 'minimal' || tv === 'detailed') out.traceVerbosity = tv;
  return out;
}

export function disabledServiceView(d: DisabledObject, issues: readonly ConfigIssue[]): ServiceView {
  const r = record(d.value);
  const kind = d.parsed
    ? text(r['kind'])
    : (Object.keys(r).find((k) => SERVICE_KINDS.some((s) => s === k)) ?? '');
  const type = SERVICE_KINDS.find((s) => s === kind);
  return {
    name: d.name,
    provider: providerNameOf(d.name),
    ...traefikType(type),
    // Traefik shows a disabled object's configuration too (with its `err`): when it parsed.
    ...(d.parsed && d.kind === undefined && type !== undefined
      ? disabledInline(d.value, () => traefikServiceConfig(d.value as ServiceConfig))
      : {}),
    status: 'disabled',
    issues: issues.map(formatIssue),
  };
}

/**
 * A middleware's key of its kind (`rateLimit`; `unknown` when it cannot be told) and its options:
 * parsed, `{ type, config }`; as written, `{ <type>: <options> }` (one key when valid).
 */
export function middlewareKind(d: Pick<DisabledObject, 'parsed' | 'value'>): {
  type: string;
  config: unknown;
} {
  const r = record(d.value);
  const keys = Object.keys(r);
  const type = d.parsed ? text(r['type']) : keys.length === 1 ? keys[0]! : 'unknown';
  const config = d.parsed ? r['config'] : keys.length === 1 ? r[keys[0]!] : d.value;
  return { type, config };
}

export function disabledMiddlewareView(d: DisabledObject, issues: readonly ConfigIssue[]): MiddlewareView {
  const { type, config } = middlewareKind(d);
  return {
    name: d.name,
    provider: providerNameOf(d.name),
    ...traefikType(type, config),
    ...(d.parsed ? disabledInline(d.value, () => traefikInlineConfig(type, config)) : {}),
    status: 'disabled',
    issues: issues.map(formatIssue),
    config: redactSecrets(config),
  };
}

const disabledInlineCache = new WeakMap<object, Readonly<Record<string, unknown>>>();

/**
 * A parsed disabled object's Traefik inline configuration (traefik-config.ts), secrets redacted as
 * its `config` is, built once per object.
 */
function disabledInline(
  value: unknown,
  build: () => Record<string, unknown>,
): Readonly<Record<string, unknown>> {
  if (typeof value !== 'object' || value === null) return {};
  let v = disabledInlineCache.get(value);
  if (v === undefined) {
    v = redactSecrets(build()) as Record<string, unknown>;
    disabledInlineCache.set(value, v);
  }
  return v;
}
