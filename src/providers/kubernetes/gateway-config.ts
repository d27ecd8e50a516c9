import type { ConfigIssue } from '../../config/issues.ts';
import type { SourceOf } from '../dynamic-data.ts';
import type { KubeObject } from './informer.ts';
import { KubeBuild, normalize, type Obj } from './kube-build.ts';

export interface GatewayObjects {
  readonly gatewayClasses: readonly KubeObject[];
  readonly gateways: readonly KubeObject[];
  readonly httpRoutes: readonly KubeObject[];
  readonly services: readonly KubeObject[];
  readonly endpointSlices: readonly KubeObject[];
  readonly secrets: readonly KubeObject[];
}

export interface GatewayOptions {
  readonly allowEmptyServices: boolean;
  readonly allowExternalNameServices: boolean;
  /** Entry point name → the port of its address (a listener goes to the entry point of its port). */
  readonly entryPointPorts: Readonly<Record<string, number>>;
}

const CONTROLLER = 'traefik.io/gateway-controller';

interface Listener {
  readonly name: string;
  readonly port: number;
  readonly protocol: string;
  readonly hostname?: string;
  readonly tls?: {
    readonly mode?: string;
    readonly certificateRefs?: readonly { name?: string; namespace?: string }[];
  };
  readonly allowedRoutes?: { readonly namespaces?: { readonly from?: string } };
}

interface Match {
  readonly path?: { readonly type?: string; readonly value?: string };
  readonly headers?: readonly { readonly type?: string; readonly name: string; readonly value: string }[];
  readonly queryParams?: readonly { readonly type?: string; readonly name: string; readonly value: string }[];
  readonly method?: string;
}

interface Rule {
  readonly matches?: readonly Match[];
  readonly backendRefs?: readonly {
    readonly name?: string;
    readonly namespace?: string;
    readonly port?: number;
    readonly weight?: number;
    readonly kind?: string;
    readonly group?: string;
  }[];
  readonly filters?: readonly { readonly type?: string }[];
}

/** A listener a route may attach to: its Gateway, entry point and hostname. */
interface Attach {
  readonly gw: KubeObject;
  readonly listener: Listener;
  readonly entryPoint: string;
}

/**
 * Gateway API (`gateway.networking.k8s.io/v1`) Gateways and HTTPRoutes as Traefik's gateway
 * provider builds them (pkg/provider/kubernetes/gateway), the basic part:
 *
 * - a GatewayClass is ours when its `controllerName` is `traefik.io/gateway-controller`; each
 *   listener (HTTP or HTTPS) of its Gateways goes to the entry point whose address has the
 *   listener's port; an HTTPS listener's `certificateRefs` (TLS Secrets) join `tls.certificates`;
 * - an HTTPRoute attaches through `parentRefs` (a Gateway, optionally one listener by
 *   `sectionName`) when the listener allows its namespace (`Same` by default, or `All`);
 * - each match of each rule is a router with Traefik's rule and priority: hostnames
 *   (``Host``/``HostRegexp`` for `*.`), path `Exact` → ``Path`` (100000), `PathPrefix` →
 *   ``(Path(`/p`) || PathPrefix(`/p/`))`` (10000 + 100 × length), `RegularExpression` →
 *   ``PathRegexp``; +1000 for a method, +100 per header, +10 per query parameter;
 * - its backendRefs are a weighted service `<router>-wrr` over the load balancers
 *   `<ns>-<service>-<port>` (weight 0: no traffic).
 */
export function gatewayConfig(
  objs: GatewayObjects,
  opts: GatewayOptions,
): { data: Obj; sourceOf: SourceOf; issues: ConfigIssue[] } {
  const b = new KubeBuild(objs, { ...opts, allowCrossNamespace: false });
  const classes = new Set(
    objs.gatewayClasses
      .filter((c) => (c.spec as { controllerName?: string } | undefined)?.controllerName === CONTROLLER)
      .map((c) => c.metadata.name),
  );
  const listeners: Attach[] = [];
  for (const gw of objs.gateways) {
    const spec = (gw.spec ?? {}) as { gatewayClassName?: string; listeners?: readonly Listener[] };
    if (spec.gatewayClassName === undefined || !classes.has(spec.gatewayClassName)) continue;
    const ns = gw.metadata.namespace ?? 'default';
    const where = `gateway ${ns}/${gw.metadata.name}`;
    for (const l of spec.listeners ?? []) {
      if (l.protocol !== 'HTTP' && l.protocol !== 'HTTPS') {
        b.warn(where, `listener ${l.name}: protocol ${l.protocol} is not supported yet: ignored`);
        continue;
      }
      const ep = Object.entries(opts.entryPointPorts).find(([, port]) => port === l.port)?.[0];
      if (ep === undefined) {
        b.error(where, `listener ${l.name}: no entry point listens on port ${l.port}`);
        continue;
      }
      if (l.protocol === 'HTTPS') {
        if (l.tls?.mode !== undefined && l.tls.mode !== 'Terminate') {
          b.warn(where, `listener ${l.name}: TLS mode ${l.tls.mode} is not supported yet: ignored`);
          continue;
        }
        for (const ref of l.tls?.certificateRefs ?? []) {
          if (ref.name === undefined) continue;
          if ((ref.namespace ?? ns) !== ns) {
            b.error(
              where,
              `listener ${l.name}: certificate ${ref.namespace}/${ref.name} in another namespace needs a ReferenceGrant (not supported yet)`,
            );
            continue;
          }
          b.addCertificate(ns, ref.name, where);
        }
      }
      listeners.push({ gw, listener: l, entryPoint: ep });
    }
  }

  for (const route of objs.httpRoutes) {
    const ns = route.metadata.namespace ?? 'default';
    const where = `httproute ${ns}/${route.metadata.name}`;
    const spec = (route.spec ?? {}) as {
      parentRefs?: readonly { name?: string; namespace?: string; sectionName?: string; kind?: string }[];
      hostnames?: readonly string[];
      rules?: readonly Rule[];
    };
    for (const parent of spec.parentRefs ?? []) {
      if (parent.kind !== undefined && parent.kind !== 'Gateway') continue;
      const gwNs = parent.namespace ?? ns;
      const attached = listeners.filter(
        (a) =>
          a.gw.metadata.name === parent.name &&
          (a.gw.metadata.namespace ?? 'default') === gwNs &&
          (parent.sectionName === undefined || a.listener.name === parent.sectionName) &&
          ((a.listener.allowedRoutes?.namespaces?.from ?? 'Same') === 'All' || gwNs === ns),
      );
      for (const a of attached) {
        const hosts = hostnames(spec.hostnames ?? [], a.listener.hostname);
        if (hosts === undefined) continue;
        (spec.rules ?? []).forEach((rule, ri) => {
          for (const f of rule.filters ?? [])
            b.warn(where, `rule ${ri}: filter ${f.type} is not supported yet: ignored`);
          const service = backends(b, rule, ns, where);
          const matches = rule.matches === undefined || rule.matches.length === 0 ? [{}] : rule.matches;
          matches.forEach((m, mi) => {
            const name = normalize(
              `httproute-${ns}-${route.metadata.name}-gw-${gwNs}-${a.gw.metadata.name}-ep-${a.entryPoint}-${ri}-${mi}`,
            );
            const built = matchRule(m, hosts);
            if ('error' in built) {
              b.error(where, `rule ${ri} match ${mi}: ${built.error}`);
              return;
            }
            if (service === undefined) return;
            b.services[`${name}-wrr`] = { weighted: { services: service } };
            b.source('http/services', `${name}-wrr`, where);
            b.routers[name] = {
              rule: built.rule,
              priority: built.priority,
              entryPoints: [a.entryPoint],
              service: `${name}-wrr`,
              ...(a.listener.protocol === 'HTTPS' ? { tls: {} } : {}),
            };
            b.source('http/routers', name, where);
          });
        });
      }
    }
  }
  return b.result();
}

/** The route's hostnames within the listener's; undefined when none is left (no attachment). */
function hostnames(route: readonly string[], listener: string | undefined): string[] | undefined {
  if (listener === undefined) return [...route];
  if (route.length === 0) return [listener];
  const kept = route.filter((h) => hostCompatible(h, listener) || hostCompatible(listener, h));
  return kept.length === 0
    ? undefined
    : kept.map((h) => (h.startsWith('*.') && !listener.startsWith('*.') ? listener : h));
}

function hostCompatible(h: string, pattern: string): boolean {
  if (!pattern.startsWith('*.')) return h === pattern;
  return h.endsWith(pattern.slice(1)) && h.length > pattern.length - 1;
}

function hostRule(h: string): string {
  if (!h.startsWith('*.')) return `Host(\`${h}\`)`;
  return `HostRegexp(\`^[a-zA-Z0-9-]+(\\.[a-zA-Z0-9-]+)*${h.slice(1).replace(/[.]/g, '\\.')}$\`)`;
}

function matchRule(
  m: Match,
  hosts: readonly string[],
): { rule: string; priority: number } | { error: string } {
  const parts: string[] = [];
  let priority = 0;
  if (hosts.length > 0) {
    const h = hosts.map(hostRule);
    parts.push(h.length === 1 ? h[0]! : `(${h.join(' || ')})`);
  }
  const type = m.path?.type ?? 'PathPrefix';
  const value = m.path?.value ?? '/';
  if (type === 'Exact') {
    parts.push(`Path(\`${value}\`)`);
    priority += 100000;
  } else if (type === 'PathPrefix') {
    const bare = value.replace(/\/+$/, '');
    parts.push(bare === '' ? 'PathPrefix(`/`)' : `(Path(\`${bare}\`) || PathPrefix(\`${bare}/\`))`);
    priority += 10000 + bare.length * 100;
  } else if (type === 'RegularExpression') {
    parts.push(`PathRegexp(\`${value}\`)`);
    priority += 10000 + value.length * 100;
  } else return { error: `path type ${type} is not supported` };
  if (m.method !== undefined) {
    parts.push(`Method(\`${m.method}\`)`);
    priority += 1000;
  }
  for (const h of m.headers ?? []) {
    parts.push(
      h.type === 'RegularExpression'
        ? `HeaderRegexp(\`${h.name}\`, \`${h.value}\`)`
        : `Header(\`${h.name}\`, \`${h.value}\`)`,
    );
    priority += 100;
  }
  for (const q of m.queryParams ?? []) {
    parts.push(
      q.type === 'RegularExpression'
        ? `QueryRegexp(\`${q.name}\`, \`${q.value}\`)`
        : `Query(\`${q.name}\`, \`${q.value}\`)`,
    );
    priority += 10;
  }
  return { rule: parts.join(' && '), priority };
}

/** The weighted children of a rule's backendRefs, or undefined (reported) when none is usable. */
function backends(b: KubeBuild, rule: Rule, ns: string, where: string): Obj[] | undefined {
  const out: Obj[] = [];
  for (const ref of rule.backendRefs ?? []) {
    if ((ref.kind ?? 'Service') !== 'Service' || (ref.group ?? '') !== '') {
      b.error(where, `backend ${ref.group ?? ''}/${ref.kind}: only core Services are supported`);
      continue;
    }
    if ((ref.namespace ?? ns) !== ns) {
      b.error(
        where,
        `backend ${ref.namespace}/${ref.name}: another namespace needs a ReferenceGrant (not supported yet)`,
      );
      continue;
    }
    const weight = ref.weight ?? 1;
    if (weight === 0) continue;
    const lb = b.loadBalancer({ name: ref.name, port: ref.port }, ns, where);
    if (lb !== undefined) out.push({ name: lb, weight });
  }
  if (out.length === 0) return b.error(where, 'no usable backendRefs');
  return out;
}
