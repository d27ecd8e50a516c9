/**
 * The snapshot fuzzer's worker, a child process so that a hang can be caught and killed:
 *   node test/fuzz/snapshot-fuzz-worker.ts <case seed> [<case seed> ...]
 * For each seed it writes a random dynamic configuration (snapshot-gen.ts) as a YAML file, loads
 * it as the file provider does, builds it object by object as the proxy does on each reload
 * (twice, the second time as a reload over the first's state), and sends a few requests through
 * every route it built: the routers' and the services' middlewares' request phase, and the
 * service tree resolved down to a load balancer, through every service-middleware step, as the
 * exchange walks it (and each mirror's copy and error page as MirrorRun and PageStepRun walk them). One JSON line per event on stdout: {start}, then {done} or {exception} or
 * {bad} (a result that breaks an invariant).
 */
import { stringify } from 'yaml';
import { loadDynamic } from '../../src/config/index.ts';
import { silentLogger } from '../../src/core/logger.ts';
import type { RequestHead } from '../../src/core/request.ts';
import { Ticker } from '../../src/core/ticker.ts';
import { type Lease, type RequestControl, SUSPEND } from '../../src/middleware/middleware.ts';
import { makeRequest } from '../../src/middleware/test-request.ts';
import { compileRule } from '../../src/router/index.ts';
import { buildPerObject } from '../../src/runtime/build-per-object.ts';
import { mergeProviders } from '../../src/runtime/merge-providers.ts';
import { ResourceCache } from '../../src/runtime/resource-cache.ts';
import type {
  FailoverNode,
  MirroringNode,
  ResolveSink,
  RouteTarget,
  ServiceNode,
  ServiceRuntime,
  ServiceStep,
} from '../../src/runtime/types.ts';
import { seededRandom } from '../helpers/seeded-random.ts';
import { generateConfig, REQUESTS } from './snapshot-gen.ts';

const INTERNAL: ReadonlySet<string> = new Set(['api', 'dashboard', 'ping', 'prometheus', 'noop']);
/** More service-middleware steps than this on one request: the walk does not end. */
const MAX_STEPS = 64;

function emit(o: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(o)}\n`);
}

/** What the exchange is to the service tree, reduced to what resolving records. */
class Sink implements ResolveSink {
  serviceStep: ServiceStep | null = null;
  mirror: MirroringNode | null = null;
  failover: FailoverNode | null = null;
  addSetCookie(line: string): void {
    if (typeof line !== 'string' || line === '') throw new Error(`a Set-Cookie line ${String(line)}`);
  }
  mirrorThrough(node: MirroringNode): void {
    this.mirror ??= node;
  }
  failoverThrough(node: FailoverNode): void {
    this.failover = node;
  }
  serviceMiddlewares(step: ServiceStep): void {
    this.serviceStep = step;
  }
}

/** Leases are released at once, as a request that got a 502 at once would release them. */
const control: RequestControl = {
  resume: () => {},
  onEnd: (lease: Lease) => lease.release({ status: 502, networkError: true, headMs: 1, totalMs: 1 }),
  transformBody: () => {},
};

/** The middlewares' request phase; false when one answered or suspended (the request stops there). */
function requestPhase(route: RouteTarget, from: number, req: RequestHead): boolean {
  for (let i = from; i < route.middlewares.length; i++) {
    const m = route.middlewares[i]!;
    if (m.onRequest === undefined) continue;
    const v = m.onRequest(req, control);
    if (v === SUSPEND || v !== undefined) return false;
  }
  return true;
}

/** A request through one entry point's routes, as the exchange walks them; an invariant broken, or null. */
function walk(match: RouteTarget | undefined, req: RequestHead): string | null {
  let route = match;
  if (route === undefined) return null;
  // Multi-layer routing: the child the request matches past the parent's middlewares.
  for (let depth = 0; route.children !== null; depth++) {
    if (depth > MAX_STEPS) return `router ${route.router}: children do not end`;
    if (!requestPhase(route, 0, req)) return null;
    const child = route.children.match(req.entryPoint, req);
    if (child === undefined) return null;
    route = child;
  }
  let ran = 0;
  const sink = new Sink();
  for (let steps = 0; ; steps++) {
    if (steps > MAX_STEPS) return `router ${route.router}: service-middleware steps do not end`;
    if (!requestPhase(route, ran, req)) return null;
    ran = route.middlewares.length;
    sink.serviceStep = null;
    const lb: ServiceRuntime | undefined = route.service.resolve(req, sink);
    const step = sink.serviceStep as ServiceStep | null;
    if (lb !== undefined || step === null) return pastMiddlewares(route, req, sink);
    stepsTaken++;
    const next = step.targetAfter(route);
    if (next.middlewares.length < ran)
      return `router ${route.router}: a step's target has fewer middlewares (${next.middlewares.length}) than ran (${ran})`;
    route = next;
  }
}

/** Service-middleware steps walked by the current case (reported, to show what was reached). */
let stepsTaken = 0;
/** Mirrors' copies walked through service-middleware steps by the current case. */
let mirrorSteps = 0;
/** Error pages walked through service-middleware steps by the current case. */
let pageSteps = 0;

/**
 * A tree resolved past the middleware phase, as MirrorRun and PageStepRun walk it: each step's
 * middlewares' request phase on a copy of the request, then what is below it. The steps must
 * end, and none of their middlewares may act around the tries (a retry, an error page,
 * buffering, a per-server breaker) or, on an error page's tree (`page`), on the response body:
 * the build refuses them there. Returns the broken invariant, or null; `stepped` hears whether
 * a step was met.
 */
function walkPast(node: ServiceNode, req: RequestHead, page: boolean, stepped: () => void): string | null {
  const copy = makeRequest(`http://${req.host || 'a.test'}${req.path}`, {
    method: req.method,
    entryPoint: 'web',
  });
  for (let steps = 0; ; steps++) {
    if (steps > MAX_STEPS) return 'service-middleware steps do not end';
    const past = new Sink();
    const lb = node.resolve(copy, past);
    const step = past.serviceStep as ServiceStep | null;
    if (lb !== undefined || step === null) return null;
    stepped();
    for (const mw of step.middlewares) {
      if (
        mw.retry !== undefined ||
        mw.errorPage !== undefined ||
        mw.buffering !== undefined ||
        mw.guard !== undefined ||
        (page && mw.onResponseBody !== undefined)
      )
        return 'runs a middleware that acts around its tries or on its body';
    }
    for (const mw of step.middlewares) {
      if (mw.onRequest === undefined) continue;
      const v = mw.onRequest(copy, control);
      if (v === SUSPEND || v !== undefined) return null;
    }
    node = step.inner;
  }
}

/**
 * What the exchange resolves past the middleware phase: a mirror's copy and an error page are
 * walked as MirrorRun and PageStepRun walk them (walkPast); a mirror whose tree has a step is
 * flagged `stepped` (else its copies would find no server). A failover's fallback on statuses
 * is resolved too (its service middlewares run on the exchange's own path for it): it must not
 * throw.
 */
function pastMiddlewares(route: RouteTarget, req: RequestHead, sink: Sink): string | null {
  sink.failover?.fallback.resolve(req, new Sink());
  for (const m of sink.mirror?.mirrors ?? []) {
    let met = false;
    const bad = walkPast(m.node, req, false, () => {
      met = true;
      mirrorSteps++;
    });
    if (bad !== null) return `router ${route.router}: mirror ${m.name}: ${bad}`;
    if (met && m.stepped !== true)
      return `router ${route.router}: mirror ${m.name} has service middlewares but is not flagged stepped`;
  }
  for (const p of route.errorPages ?? []) {
    const bad = walkPast(p.service, req, true, () => {
      pageSteps++;
    });
    if (bad !== null) return `router ${route.router}: error page ${p.service.name}: ${bad}`;
  }
  return null;
}

const ticker = new Ticker();
try {
  for (const arg of process.argv.slice(2)) {
    const seed = Number(arg);
    const r = seededRandom(seed);
    const config = generateConfig(r);
    const text = stringify(config);
    emit({ start: seed });
    stepsTaken = 0;
    mirrorSteps = 0;
    pageSteps = 0;
    const t0 = performance.now();
    const cache = new ResourceCache(ticker);
    try {
      const loaded = loadDynamic([{ file: `/fuzz/${seed}.yml`, text }], {
        checkRule: (rule) => {
          const c = compileRule(rule);
          return c.ok ? undefined : c.error;
        },
        provider: 'file',
        internalServices: INTERNAL,
      });
      let bad: string | null = null;
      let routes = 0;
      if (loaded.config !== undefined) {
        const merged = mergeProviders(new Map([['file', loaded.config]]));
        for (let generation = 1; generation <= 2 && bad === null; generation++) {
          const built = buildPerObject(merged, generation, cache, silentLogger, {
            defaultEntryPoints: ['web'],
          });
          if (!built.ok) continue;
          const snapshot = built.result.snapshot;
          cache.retain(built.result.pools, built.result.sharedKeys);
          for (const [name] of snapshot.routers) {
            if (snapshot.disabled.has(`routers/${name}`)) bad ??= `router ${name} both built and disabled`;
          }
          for (const q of REQUESTS) {
            const req = makeRequest(q.url, { method: q.method, entryPoint: 'web' });
            const match = snapshot.routes.match('web', req);
            if (match !== undefined) routes++;
            bad ??= walk(match, req);
          }
        }
      }
      if (bad !== null) emit({ bad, seed, config: text });
      emit({
        done: seed,
        errors: loaded.issues.filter((i) => i.severity === 'error').length,
        routes,
        steps: stepsTaken,
        mirrorSteps,
        pageSteps,
        ms: Math.round(performance.now() - t0),
      });
    } catch (e) {
      emit({
        exception: String(e),
        stack: (e as Error).stack?.split('\n').slice(0, 10).join('\n'),
        seed,
        config: text,
      });
    } finally {
      cache.closeAll();
    }
  }
  emit({ end: true });
} finally {
  ticker.stop();
}
