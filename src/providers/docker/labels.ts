import { type ConfigIssue, issue } from '../../config/issues.ts';

/** What a container's `traefik.*` labels say, before it becomes configuration. */
export interface ParsedLabels {
  /** `traefik.enable`, when set. */
  readonly enable: boolean | undefined;
  /** `traefik.docker.network`, when set. */
  readonly network: string | undefined;
  /** `traefik.docker.allownonrunning`: a container that is not running keeps its routes. */
  readonly allowNonRunning: boolean;
  /**
   * `traefik.http.*`, `traefik.tls.stores.default.*` `traefik.tcp.*` and
   * `traefik.udp.*` as nested data (paths as written).
   */
  readonly data: Record<string, unknown>;
  /** Whether any `traefik.http.*` label is there. */
  readonly http: boolean;
  /** Config path (segments joined by `/`, lowercase) → the label that set it. */
  readonly sources: Map<string, string>;
  readonly issues: ConfigIssue[];
}

/** Options under `traefik.` that are not configuration (Traefik's label providers read them). */
const OPTIONS = new Set([
  'enable',
  'docker.network',
  'docker.allownonrunning',
  'docker.lbswarm',
  'swarm.network',
  'swarm.lbswarm',
  'nomad.canary',
]);

/**
 * Traefik's label grammar (pkg/config/label): `traefik.<path>` where the path follows the dynamic
 * configuration (`traefik.http.routers.web.rule`, `traefik.http.services.app.loadbalancer.server.
 * port`); `[n]` indexes list items (`tls.domains[0].main`). Only `traefik.http.`, `traefik.tcp.`,
 * `traefik.udp.` and `traefik.tls.stores.default.` feed the configuration. Traefik silently
 * ignores every other `traefik.*` label; users ask for typos to be reported (traefik#8013,
 * #9840), so each one is a warning here that names it. `where` names the container in issues.
 */
export function parseLabels(labels: Readonly<Record<string, string>>, where: string): ParsedLabels {
  const data: Record<string, unknown> = {};
  const sources = new Map<string, string>();
  const issues: ConfigIssue[] = [];
  let enable: boolean | undefined;
  let network: string | undefined;
  let allowNonRunning = false;
  let http = false;
  const file = (label: string): string => `${where} label ${label}`;
  for (const label of Object.keys(labels).sort()) {
    const value = labels[label]!;
    const lower = label.toLowerCase();
    if (!lower.startsWith('traefik.')) continue;
    const rest = lower.slice('traefik.'.length);
    if (OPTIONS.has(rest)) {
      if (rest === 'enable') enable = /^(1|t|true)$/i.test(value.trim());
      else if (rest === 'docker.network' || rest === 'swarm.network') network = value;
      else if (rest === 'docker.allownonrunning') allowNonRunning = /^(1|t|true)$/i.test(value.trim());
      // Read by the swarm and nomad providers themselves.
      else if (rest === 'swarm.lbswarm' || rest === 'docker.lbswarm' || rest === 'nomad.canary') continue;
      else issues.push(issue('warning', 'not supported yet (ignored)', [], { file: file(label) }));
      continue;
    }
    const first = rest.split('.', 1)[0]!;
    if (first !== 'tcp' && first !== 'udp' && first !== 'http' && !rest.startsWith('tls.stores.default.')) {
      const hint =
        rest.startsWith('frontend.') || rest.startsWith('backend.') || rest === 'port'
          ? 'a Traefik v1 label: Traefik v2+ ignores it'
          : 'unknown label: Traefik reads only traefik.http.*, traefik.tcp.*, traefik.udp.*, traefik.tls.stores.default.* and traefik.enable';
      issues.push(issue('warning', `${hint} (ignored)`, [], { file: file(label) }));
      continue;
    }
    if (first === 'http') http = true;
    // `domains[0].main` → domains, 0, main; label keys keep their case for names (`X-Foo`).
    const path = label
      .slice('traefik.'.length)
      .split('.')
      .flatMap((seg) => {
        const m = /^(.*?)((?:\[\d+\])+)$/.exec(seg);
        if (m === null) return [seg];
        return [m[1]!, ...[...m[2]!.matchAll(/\[(\d+)\]/g)].map((x) => x[1]!)];
      });
    if (path.some((p) => p === '')) {
      issues.push(issue('error', 'malformed label name (an empty segment)', [], { file: file(label) }));
      continue;
    }
    if (!put(data, path, value)) {
      issues.push(
        issue('error', 'conflicts with another label that sets a value where this one needs a section', [], {
          file: file(label),
        }),
      );
      continue;
    }
    sources.set(path.join('/').toLowerCase(), file(label));
  }
  return { enable, network, allowNonRunning, data, http, sources, issues };
}

function put(root: Record<string, unknown>, path: readonly string[], value: string): boolean {
  let node = root;
  for (let i = 0; i < path.length - 1; i++) {
    const seg = path[i]!;
    const key = findKey(node, seg) ?? seg;
    const next = node[key];
    if (next === undefined) {
      const child: Record<string, unknown> = {};
      node[key] = child;
      node = child;
    } else if (typeof next === 'object' && next !== null) node = next as Record<string, unknown>;
    else return false;
  }
  const last = path[path.length - 1]!;
  const key = findKey(node, last) ?? last;
  if (typeof node[key] === 'object') return false;
  node[key] = value;
  return true;
}

/** The key of `node` equal to `seg` ignoring case (labels are case-insensitive). */
export function findKey(node: Readonly<Record<string, unknown>>, seg: string): string | undefined {
  if (Object.hasOwn(node, seg)) return seg;
  const lower = seg.toLowerCase();
  return Object.keys(node).find((k) => k.toLowerCase() === lower);
}
