import { providerOf } from '../../core/qualified-name.ts';
import type { ConfigIssue, ConfigPath } from '../issues.ts';
import type { Target } from '../yaml-source.ts';
import { checkReferenceGraph } from './reference-graph.ts';
import type { DynamicConfig } from './schema.ts';
import { parseServerAddress } from './server-address.ts';
import type { TcpSectionConfig, UdpSectionConfig } from './tcp.ts';
import type { Ref, ValidateOptions } from './validate.ts';

type Report = (severity: ConfigIssue['severity'], message: string, path: ConfigPath, target?: Target) => void;

/** A HostSNI with a name: only a TLS connection has a server name (Traefik's router check). */
const NAMED_HOST_SNI = /hostsni\s*\(\s*[`"](?!\*[`"])/i;

/** The rule's first HostSNI matcher as written (Traefik's ParseHostSNI `domains[0]`), or ''. */
function firstHostSni(rule: string): string {
  return /hostsni\s*\(\s*[`"][^`"]*[`"]/i.exec(rule)?.[0] ?? '';
}

/** The values of a rule's HostSNI matchers (backquoted or double-quoted). */
const HOST_SNI_VALUES = /hostsni\s*\(\s*([`"])([^`"]*)\1/gi;

/**
 * A HostSNI value Traefik's v3 matcher can never match: an ASCII name with an upper-case letter.
 * Its hostSNI (pkg/muxer/tcp/matcher.go) compares the value as written with the server name,
 * which NewConnData lower-cases; only a non-ASCII name is lower-cased (idna.Lookup.ToASCII), and
 * the v2 syntax lower-cases every value. Ours matches it regardless of case.
 */
export function neverMatchingHostSni(rule: string): string[] {
  const out: string[] = [];
  for (const m of rule.matchAll(HOST_SNI_VALUES)) {
    const v = m[2]!;
    if (/[A-Z]/.test(v) && /^[\x21-\x7e]*$/.test(v)) out.push(v);
  }
  return out;
}

/**
 * References and rules of the `tcp` and `udp` sections: a router's service, middlewares and
 * entry points exist; a service's serversTransport and weighted children exist, without cycles;
 * rules compile in the TCP language; a router without `tls` uses no named HostSNI (Traefik
 * refuses it: a cleartext connection has no server name). An object with an error is disabled,
 * and so is everything that needs it, each with its own issue.
 */
export function validateLayer4(
  config: DynamicConfig,
  opts: ValidateOptions,
  report: Report,
  resolveName: (name: string, owner?: string) => Ref,
): DynamicConfig {
  if (config.tcp === undefined && config.udp === undefined) return config;
  const off = new Set<string>();
  const broken = new Set(
    (opts.disabled ?? []).filter((r) => r.kind !== undefined).map((r) => `${r.kind}:${r.section}/${r.name}`),
  );
  const isOff = (k: string): boolean => off.has(k) || broken.has(k);
  const eps = opts.entryPoints === undefined ? undefined : new Set(opts.entryPoints);

  /** Why a reference to `section` object `name` of `kind` cannot be used, or undefined. */
  const problem = (
    kind: 'tcp' | 'udp',
    section: string,
    name: string,
    objects: Record<string, unknown>,
    owner?: string,
  ): string | undefined => {
    const ref = resolveName(name, owner);
    if (ref.kind === 'external') return undefined;
    if (ref.kind === 'internal') return `\`${name}\`: the internal provider has no ${kind} objects`;
    if (ref.kind === 'unknownProvider') return `\`${name}\`: provider \`${ref.provider}\` is not available`;
    if (isOff(`${kind}:${section}/${ref.name}`)) return `\`${name}\` is disabled because of its own errors`;
    if (!Object.hasOwn(objects, ref.name)) return `\`${name}\` does not exist in the ${kind} section`;
    return undefined;
  };
  const local = (name: string, owner?: string): string | undefined => {
    const ref = resolveName(name, owner);
    return ref.kind === 'local' ? ref.name : undefined;
  };

  for (const kind of ['tcp', 'udp'] as const) {
    const part = config[kind] as Record<string, Record<string, unknown>> | undefined;
    if (part === undefined) continue;
    for (const [section, objects] of Object.entries(part)) {
      for (const name of Object.keys(objects)) {
        if (!name.includes('@')) continue;
        // As HTTP names (validate.ts): Traefik's mergeConfiguration names it `name@provider`.
        report(
          'warning',
          `a name holding \`@\` is \`${name}@${opts.provider ?? 'file'}\` across providers, as in Traefik: only that full name refers to it, and its own references without \`@\` are read in provider \`${providerOf(name)}\``,
          [kind, section, name],
          'key',
        );
      }
    }
  }

  // Traefik checks only that a server address splits into host and port (BuildTCP, BuildUDP in
  // pkg/server/service/tcp and udp service.go): a server whose address does not is skipped with an
  // error log ("Failed to split host port") and the service built with the others, no error on
  // the service (its status stays enabled); one no dial can use loads, and its connections fail.
  for (const kind of ['tcp', 'udp'] as const) {
    for (const [name, svc] of Object.entries(config[kind]?.services ?? {})) {
      if (svc.kind !== 'loadBalancer') continue;
      const servers = svc.loadBalancer.servers;
      let skipped = 0;
      servers.forEach((srv, i) => {
        const at = [kind, 'services', name, 'loadBalancer', 'servers', i, 'address'];
        const a = parseServerAddress(srv.address, kind);
        if ('error' in a) {
          skipped++;
          report(
            'warning',
            `server \`${srv.address}\` is left out of its service, the others serve (${a.error}), as Traefik's ${kind === 'tcp' ? 'BuildTCP' : 'BuildUDP'} skips it: "Failed to split host port"`,
            at,
          );
        } else if (a.unusable !== undefined) {
          report(
            'warning',
            `no connection can be made to this address: every one sent to this server fails (${a.unusable}), as in Traefik`,
            at,
          );
        }
      });
      if (skipped > 0 && skipped === servers.length)
        report(
          'warning',
          `no server of this service is left: its ${kind === 'tcp' ? 'connections are closed' : 'datagrams are dropped'}`,
          [kind, 'services', name, 'loadBalancer', 'servers'],
        );
    }
  }

  const tcp = config.tcp;
  if (tcp !== undefined) {
    for (const [name, svc] of Object.entries(tcp.services)) {
      if (isOff(`tcp:services/${name}`) || svc.kind !== 'loadBalancer') continue;
      const base = ['tcp', 'services', name, 'loadBalancer'];
      const lb = svc.loadBalancer;
      const st = lb.serversTransport;
      const ref = st === undefined ? undefined : resolveName(st, name);
      // Traefik's internal provider defines `default@internal` (serverTransportTCP).
      if (st !== undefined && !(ref?.kind === 'internal' && ref.name === 'default')) {
        const p = problem('tcp', 'serversTransports', st, tcp.serversTransports, name);
        if (p !== undefined) {
          report('error', `serversTransport ${p}`, [...base, 'serversTransport']);
          off.add(`tcp:services/${name}`);
        }
      }
      if (lb.servers.length === 0)
        report('warning', 'the service has no servers: its connections are closed', [...base, 'servers']);
      const hc = lb.healthCheck;
      if (hc !== undefined) {
        // Traefik loads these and uses its defaults instead, logging an error
        // (pkg/healthcheck/healthcheck_tcp.go NewServiceTCPHealthChecker).
        for (const [key, value, fallback] of [
          ['interval', hc.interval, '30s'],
          ['unhealthyInterval', hc.unhealthyInterval, '30s'],
          ['timeout', hc.timeout, '5s'],
        ] as const) {
          if (value !== undefined && value <= 0) {
            report('warning', `${key} is not positive: the default ${fallback} is used (as in Traefik)`, [
              ...base,
              'healthCheck',
              key,
            ]);
          }
        }
      }
    }
    serviceGraph('tcp', tcp, off, isOff, local, problem, report);
    for (const [name, r] of Object.entries(tcp.routers)) {
      const key = `tcp:routers/${name}`;
      if (isOff(key)) continue;
      const base = ['tcp', 'routers', name];
      let ok = true;
      const syntax = r.ruleSyntax || opts.defaultRuleSyntax;
      const e = opts.checkRule?.(r.rule, 'tcp', syntax);
      if (e === undefined && syntax !== 'v2') {
        // Kept matching here (a name's case never matters), but said: moving the configuration
        // to Traefik would silently break the router.
        for (const v of neverMatchingHostSni(r.rule)) {
          report(
            'warning',
            `HostSNI(\`${v}\`) matches \`${v.toLowerCase()}\` here, but Traefik compares it as written with the lower-cased server name and never matches it: write it in lower case`,
            [...base, 'rule'],
          );
        }
      }
      if (e !== undefined) {
        report('error', `invalid rule: ${e.message} (at offset ${e.offset} of the rule)`, [...base, 'rule']);
        ok = false;
      } else if (r.tls === undefined && NAMED_HOST_SNI.test(firstHostSni(r.rule))) {
        // Traefik's TCP manager adds this error (the router shows `disabled`) but no `continue`:
        // the route is still added to the cleartext muxer (pkg/server/router/tcp/manager.go
        // addTCPHandlers), where the HostSNI never matches (no server name) and the rest of the
        // rule still can (`|| ClientIP(…)`). Only the first HostSNI counts (`domains[0] != "*"`).
        report(
          'error',
          'a HostSNI with a name needs `tls` on the router (a cleartext connection has no server name); cleartext routers use HostSNI(`*`). The router is kept, as in Traefik: its HostSNI never matches, the rest of its rule still routes',
          [...base, 'rule'],
        );
      }
      if (!knownEntryPoints(r.entryPoints, eps, base, report)) ok = false;
      r.middlewares.forEach((m, i) => {
        const p = problem('tcp', 'middlewares', m, tcp.middlewares, name);
        if (p === undefined) return;
        report('error', `middleware ${p}`, [...base, 'middlewares', i]);
        ok = false;
      });
      const p = problem('tcp', 'services', r.service, tcp.services, name);
      if (p !== undefined) {
        report('error', `service ${p}`, [...base, 'service']);
        ok = false;
      }
      if (!ok) off.add(key);
    }
  }

  const udp = config.udp;
  if (udp !== undefined) {
    serviceGraph('udp', udp, off, isOff, local, problem, report);
    for (const [name, r] of Object.entries(udp.routers)) {
      const key = `udp:routers/${name}`;
      if (isOff(key)) continue;
      const base = ['udp', 'routers', name];
      let ok = true;
      if (!knownEntryPoints(r.entryPoints, eps, base, report)) ok = false;
      const p = problem('udp', 'services', r.service, udp.services, name);
      if (p !== undefined) {
        report('error', `service ${p}`, [...base, 'service']);
        ok = false;
      }
      if (!ok) off.add(key);
    }
  }
  return prune(config, (k) => isOff(k));
}

/**
 * A router's entry points, as Traefik's GetRoutersByEntryPoints, GetTCPRoutersByEntryPoints and
 * GetUDPRoutersByEntryPoints (pkg/config/runtime/runtime_http.go, runtime_tcp.go, runtime_udp.go)
 * take them: one that does not exist is a non-critical error, the router serving the others; only
 * a router left with none is disabled ("no valid entryPoint for this router"). False in that case.
 */
export function knownEntryPoints(
  list: readonly string[] | undefined,
  eps: ReadonlySet<string> | undefined,
  base: ConfigPath,
  report: Report,
): boolean {
  if (list === undefined || eps === undefined) return true;
  const valid = list.some((ep) => eps.has(ep));
  list.forEach((ep, i) => {
    if (eps.has(ep)) return;
    report(
      valid ? 'warning' : 'error',
      valid
        ? `entry point \`${ep}\` does not exist: the router serves its other entry points`
        : `entry point \`${ep}\` does not exist`,
      [...base, 'entryPoints', i],
    );
  });
  return valid || list.length === 0;
}

/** Weighted services: children exist, no cycles; a service whose child is disabled is disabled too. */
function serviceGraph(
  kind: 'tcp' | 'udp',
  part: TcpSectionConfig | UdpSectionConfig,
  off: Set<string>,
  isOff: (k: string) => boolean,
  local: (name: string, owner?: string) => string | undefined,
  problem: (
    kind: 'tcp' | 'udp',
    section: string,
    name: string,
    objects: Record<string, unknown>,
    owner?: string,
  ) => string | undefined,
  report: Report,
): void {
  const edges = new Map<string, { name: string; path: ConfigPath }[]>();
  for (const [name, svc] of Object.entries(part.services)) {
    if (isOff(`${kind}:services/${name}`) || svc.kind !== 'weighted') continue;
    const out: { name: string; path: ConfigPath }[] = [];
    let ok = true;
    svc.weighted.services.forEach((child, i) => {
      const path = [kind, 'services', name, 'weighted', 'services', i, 'name'];
      const l = local(child.name, name);
      if (l !== undefined && isOff(`${kind}:services/${l}`)) {
        out.push({ name: l, path });
        return;
      }
      const p = problem(kind, 'services', child.name, part.services, name);
      if (p !== undefined) {
        report('error', `service ${p}`, path);
        ok = false;
      } else if (l !== undefined) out.push({ name: l, path });
    });
    if (!ok) {
      off.add(`${kind}:services/${name}`);
      continue;
    }
    edges.set(name, out);
    // Traefik v3.5+'s BuildTCP (pkg/server/service/tcp/service.go): a weighted service with
    // `healthCheck` registers with each child once built, which refuses unless it has a health
    // check of its own (pkg/tcp wrr_load_balancer.go RegisterStatusUpdater).
    const parentCheck = (svc.weighted as { healthCheck?: object }).healthCheck;
    if (kind !== 'tcp' || parentCheck === undefined || out.some((c) => isOff(`tcp:services/${c.name}`)))
      continue;
    for (const c of out) {
      const child = (part as TcpSectionConfig).services[c.name];
      const checked =
        child?.kind === 'loadBalancer'
          ? child.loadBalancer.healthCheck !== undefined
          : child?.weighted.healthCheck !== undefined;
      if (child === undefined || checked) continue;
      const written = String(svc.weighted.services[Number(c.path[5])]?.name);
      report(
        'error',
        `cannot register ${written} as updater for ${name}: healthCheck not enabled in config for this weighted service`,
        c.path,
      );
      off.add(`${kind}:services/${name}`);
      break;
    }
  }
  checkReferenceGraph({
    edges,
    isOff: (n) => isOff(`${kind}:services/${n}`),
    disable: (n) => off.add(`${kind}:services/${n}`),
    cycleIssue: (c, cycle, i) => ({
      path: [kind, 'services', c, 'weighted', 'services'],
      message: `service cycle: ${[...cycle.slice(i), ...cycle.slice(0, i), c].join(' → ')}`,
    }),
    what: 'service',
    report,
  });
}

function prune(config: DynamicConfig, isOff: (key: string) => boolean): DynamicConfig {
  const keep = <T>(kind: string, section: string, objects: Record<string, T>): Record<string, T> =>
    Object.fromEntries(Object.entries(objects).filter(([n]) => !isOff(`${kind}:${section}/${n}`)));
  const out = { ...config };
  if (config.tcp !== undefined) {
    const t = config.tcp;
    out.tcp = {
      routers: keep('tcp', 'routers', t.routers),
      services: keep('tcp', 'services', t.services),
      middlewares: keep('tcp', 'middlewares', t.middlewares),
      serversTransports: keep('tcp', 'serversTransports', t.serversTransports),
    };
  }
  if (config.udp !== undefined) {
    out.udp = {
      routers: keep('udp', 'routers', config.udp.routers),
      services: keep('udp', 'services', config.udp.services),
    };
  }
  return out;
}
