import { type ConfigIssue, issue } from '../../config/issues.ts';
import type { KubeObject } from './informer.ts';
import type { KubeClient } from './kube-client.ts';

export type Obj = Record<string, unknown>;

/** A Gateway API condition (metav1.Condition) without its lastTransitionTime (the writer sets it). */
export interface Condition {
  readonly type: string;
  readonly status: 'True' | 'False';
  readonly reason: string;
  readonly message: string;
  readonly observedGeneration?: number;
}

export function condition(o: KubeObject, type: string, ok: boolean, reason: string, message = ''): Condition {
  const gen = (o.metadata as { generation?: number }).generation;
  return {
    type,
    status: ok ? 'True' : 'False',
    reason,
    message,
    ...(gen !== undefined ? { observedGeneration: gen } : {}),
  };
}

/** The status an object should have, and where its status subresource is. */
export interface StatusUpdate {
  readonly kind:
    | 'GatewayClass'
    | 'Gateway'
    | 'HTTPRoute'
    | 'GRPCRoute'
    | 'TCPRoute'
    | 'TLSRoute'
    | 'BackendTLSPolicy'
    | 'ListenerSet'
    | 'Ingress';
  /** The object's API version; absent: `gateway.networking.k8s.io/v1`. */
  readonly apiVersion?: string;
  readonly object: KubeObject;
  /** `/apis/gateway.networking.k8s.io/v1[/namespaces/<ns>]/<plural>/<name>` */
  readonly path: string;
  readonly status: Obj;
}

export function objectPath(o: KubeObject, plural: string, clusterScoped = false, version = 'v1'): string {
  const ns = clusterScoped ? '' : `/namespaces/${encodeURIComponent(o.metadata.namespace ?? 'default')}`;
  return `/apis/gateway.networking.k8s.io/${version}${ns}/${plural}/${encodeURIComponent(o.metadata.name)}`;
}

/** The Gateway API controller name Traefik writes its status entries under. */
export const GATEWAY_CONTROLLER = 'traefik.io/gateway-controller';

/**
 * The lists several controllers write into, compared as sets, as Traefik's client
 * (routeParentStatusesEqual, policyAncestorStatusesEqual in client.go): entries reordered are no
 * change, so no write.
 */
const SET_KEYS = new Set(['parents', 'ancestors']);

/**
 * A value with every `lastTransitionTime` left out, as JSON with sorted keys (for comparison);
 * a route's `parents` and a policy's `ancestors` as a sorted list.
 */
function canonical(v: unknown): string {
  return JSON.stringify(v, (k, x: unknown) => {
    if (k === 'lastTransitionTime') return undefined;
    if (SET_KEYS.has(k) && Array.isArray(x)) return x.map((e) => canonical(e)).sort();
    if (x !== null && typeof x === 'object' && !Array.isArray(x))
      return Object.fromEntries(Object.entries(x as Obj).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    return x;
  });
}

export function statusEqual(current: unknown, next: Obj): boolean {
  return canonical(current ?? {}) === canonical(next);
}

/**
 * A route's `status.parents` as Traefik's client writes them (UpdateHTTPRouteStatus,
 * UpdateGRPCRouteStatus, UpdateTCPRouteStatus, UpdateTLSRouteStatus in client.go): ours in the
 * order the build made them, then the parents other controllers wrote, in their order.
 */
export function routeParents(route: KubeObject, ours: readonly Obj[]): Obj[] {
  const current = (route as { status?: { parents?: readonly Obj[] } }).status?.parents ?? [];
  return [...ours, ...current.filter((p) => p['controllerName'] !== GATEWAY_CONTROLLER)];
}

/**
 * `next` with each condition's lastTransitionTime: the current one's when the same type had the
 * same status already (the condition did not transition), else `now`, as the API requires.
 */
export function withTransitionTimes(current: unknown, next: unknown, now: string): unknown {
  if (Array.isArray(next)) {
    const old = Array.isArray(current) ? (current as Obj[]) : [];
    return next.map((n: unknown, i) => {
      const c = n as Obj;
      if (typeof c?.['type'] === 'string' && typeof c['status'] === 'string') {
        const prev = old.find((o) => o['type'] === c['type']);
        const keep =
          prev !== undefined &&
          prev['status'] === c['status'] &&
          typeof prev['lastTransitionTime'] === 'string';
        return { ...c, lastTransitionTime: keep ? prev['lastTransitionTime'] : now };
      }
      // Listeners, parents and ancestors: pair them with the current ones by name / parentRef /
      // ancestorRef (their order may change); a listener without a match, by index.
      const match =
        old.find((o) => sameEntry(o, c)) ??
        (c?.['parentRef'] === undefined && c?.['ancestorRef'] === undefined ? old[i] : undefined);
      return withTransitionTimes(match, n, now);
    });
  }
  if (next !== null && typeof next === 'object') {
    const cur = (current !== null && typeof current === 'object' ? current : {}) as Obj;
    return Object.fromEntries(
      Object.entries(next as Obj).map(([k, v]) => [k, withTransitionTimes(cur[k], v, now)]),
    );
  }
  return next;
}

function sameEntry(a: Obj, b: Obj): boolean {
  if (typeof b['name'] === 'string') return a['name'] === b['name'];
  if (a['controllerName'] !== b['controllerName']) return false;
  if (b['parentRef'] !== undefined) return canonical(a['parentRef']) === canonical(b['parentRef']);
  if (b['ancestorRef'] !== undefined) return canonical(a['ancestorRef']) === canonical(b['ancestorRef']);
  return false;
}

/**
 * Writes statuses back as Traefik's client does (UpdateStatus: PUT of the object, as the
 * informer last saw it, on its `/status` subresource), only when they changed (conditions
 * compared without their lastTransitionTime). Writes run one at a time, off the build; a build
 * meanwhile replaces what is still waiting (only the latest statuses matter). A write that fails
 * (409: the object changed since; its watch event brings a rebuild and a new try) is reported
 * with the next build's issues.
 */
export class StatusWriter {
  readonly #client: KubeClient;
  readonly #signal: AbortSignal;
  readonly #clock: () => Date;
  #next: readonly StatusUpdate[] | undefined;
  #running: Promise<void> | undefined;
  #failures: ConfigIssue[] = [];
  /** Writes made (for tests and the admin's curiosity). */
  writes = 0;

  constructor(client: KubeClient, signal: AbortSignal, clock: () => Date = () => new Date()) {
    this.#client = client;
    this.#signal = signal;
    this.#clock = clock;
  }

  submit(updates: readonly StatusUpdate[]): void {
    this.#next = updates;
    this.#running ??= this.#drain().finally(() => {
      this.#running = undefined;
    });
  }

  /** Failures since the last call, as warnings. */
  takeFailures(): ConfigIssue[] {
    const f = this.#failures;
    this.#failures = [];
    return f;
  }

  /** Resolves when nothing is being written. */
  async idle(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  async #drain(): Promise<void> {
    while (this.#next !== undefined && !this.#signal.aborted) {
      const batch = this.#next;
      this.#next = undefined;
      for (const u of batch) {
        if (this.#signal.aborted) return;
        const current = (u.object as { status?: unknown }).status;
        if (statusEqual(current, u.status)) continue;
        const now = this.#clock()
          .toISOString()
          .replace(/\.\d+Z$/, 'Z');
        const status = withTransitionTimes(current, u.status, now);
        try {
          // A listed item may come without apiVersion and kind; the API server needs them.
          const apiVersion = u.apiVersion ?? 'gateway.networking.k8s.io/v1';
          const body = { ...u.object, apiVersion, kind: u.kind, status };
          await this.#client.putJson(`${u.path}/status`, body, this.#signal);
          this.writes++;
        } catch (e) {
          if (this.#signal.aborted) return;
          this.#failures.push(
            issue('warning', `status not written: ${e instanceof Error ? e.message : String(e)}`, [], {
              file: `${u.kind.toLowerCase()} ${u.object.metadata.namespace === undefined ? '' : `${u.object.metadata.namespace}/`}${u.object.metadata.name}`,
            }),
          );
        }
      }
    }
  }
}
