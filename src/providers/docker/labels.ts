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
  const off = new Set<Record<string, unknown>>();
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
    put(data, path, value, off);
    sources.set(path.join('/').toLowerCase(), file(label));
  }
  if (off.size > 0) dropOff(data, off);
  return { enable, network, allowNonRunning, data, http, sources, issues };
}

/**
 * Sets `value` at `path`. A label may set a value on a section that other labels fill
 * (`…routers.r.tls=true` beside `…routers.r.tls.domains[0].main=…`): paerser keeps both on one node
 * (parser/labels_decode.go decodeToNode) and its metadata reads the section from the children,
 * the value only saying whether it is on: "true" (any case) or empty keeps it, any other value
 * turns it off (nodes_metadata.go: `Disabled`, for paerser's allowEmpty sections). Such a section
 * turned off is remembered in `off`, and dropped once every label is read.
 */
function put(
  root: Record<string, unknown>,
  path: readonly string[],
  value: string,
  off: Set<Record<string, unknown>>,
): void {
  let node = root;
  for (let i = 0; i < path.length - 1; i++) {
    const seg = path[i]!;
    const key = findKey(node, seg) ?? seg;
    const next = node[key];
    if (typeof next === 'object' && next !== null) {
      node = next as Record<string, unknown>;
      continue;
    }
    const child: Record<string, unknown> = {};
    if (typeof next === 'string' && !sectionOn(next)) off.add(child);
    node[key] = child;
    node = child;
  }
  const last = path[path.length - 1]!;
  const key = findKey(node, last) ?? last;
  const existing = node[key];
  if (typeof existing === 'object' && existing !== null) {
    if (!sectionOn(value)) off.add(existing as Record<string, unknown>);
    return;
  }
  node[key] = value;
}

/** paerser's reading of a value given to a section: on when empty or "true" (any case). */
function sectionOn(value: string): boolean {
  return value === '' || value.toLowerCase() === 'true';
}

/** Removes the sections in `off` from `node`, at any depth. */
function dropOff(node: Record<string, unknown>, off: ReadonlySet<Record<string, unknown>>): void {
  for (const [k, v] of Object.entries(node)) {
    if (typeof v !== 'object' || v === null) continue;
    if (off.has(v as Record<string, unknown>)) delete node[k];
    else dropOff(v as Record<string, unknown>, off);
  }
}

/** The key of `node` equal to `seg` ignoring case (labels are case-insensitive). */
export function findKey(node: Readonly<Record<string, unknown>>, seg: string): string | undefined {
  if (Object.hasOwn(node, seg)) return seg;
  const lower = seg.toLowerCase();
  return Object.keys(node).find((k) => k.toLowerCase() === lower);
}
