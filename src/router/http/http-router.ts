/**
 * The HTTP router table: for an entry point and a request head, the highest-priority route whose
 * rule matches.
 *
 * Order: higher priority first; equal priorities by the provider's place in `providers.precedence`
 * (provider-rank.ts), then by name (code-unit order), then by position in the input. Each route gets its rank in that order at build time, so that merging candidate
 * lists compares one integer.
 *
 * A request gathers at most a handful of rank-sorted candidate lists from its entry point's index
 * (entry-index.ts): its host's bucket, its path's prefix list, the lists of the header values it
 * carries, the residual list; then walks them as one merged sequence and returns the first match.
 * Nothing is allocated per request, except that a host with no exact bucket, on an entry point
 * with wildcard routes, is sliced once to find its parent.
 */
import type { RequestHead } from '../../core/request.ts';
import { providerRank } from '../provider-rank.ts';
import type { RuleError } from '../rule/ast.ts';
import { compileRule, createCompileContext, defaultPriority } from '../rule/compile.ts';
import type { RoutingPathCache } from '../rule/routing-path.ts';
import { type Candidate, type HintedRoute, hintedRoute } from './candidate.ts';
import { buildEntryIndex, type EntryIndex } from './entry-index.ts';
import type { RuleMemo } from './rule-memo.ts';

export interface RouteEntry<T> {
  readonly name: string;
  readonly rule: string;
  /** The router's `ruleSyntax` (`v2`: Traefik v2's matchers; absent or anything else: v3). */
  readonly syntax?: string | undefined;
  /** Explicit priority; absent or 0 means the default, the rule's length in bytes. */
  readonly priority?: number;
  /** Entry points the route listens on; empty means every entry point (Traefik's default). */
  readonly entryPoints: readonly string[];
  readonly value: T;
}

export interface RouteExplanation {
  readonly name: string;
  readonly priority: number;
  readonly matched: boolean;
}

const EMPTY: readonly never[] = Object.freeze([]);

export class HttpRouter<T> {
  readonly #byEntryPoint: ReadonlyMap<string, EntryIndex<T>>;
  /** For entry points that no route names: only the routes listening everywhere. */
  readonly #anyEntryPoint: EntryIndex<T>;
  readonly #routingPath: RoutingPathCache;
  /**
   * Scratch for the lists of one match. `match` is synchronous and matchers never call back into
   * the router, so one set per router is safe and saves an allocation per request.
   */
  readonly #lists: (readonly Candidate<T>[])[] = [];
  readonly #pos: number[] = [];
  /** Every route in rank order, for `explain` (never used by `match`). */
  readonly #all: readonly HintedRoute<T>[];

  private constructor(
    byEntryPoint: ReadonlyMap<string, EntryIndex<T>>,
    anyEntryPoint: EntryIndex<T>,
    routingPath: RoutingPathCache,
    all: readonly HintedRoute<T>[],
  ) {
    this.#byEntryPoint = byEntryPoint;
    this.#anyEntryPoint = anyEntryPoint;
    this.#routingPath = routingPath;
    this.#all = all;
  }

  /**
   * Routes whose rule fails to compile are returned in `errors` (by name), not thrown. `memo`
   * reuses the rules compiled by earlier builds (a configuration that changes often).
   */
  static build<T>(
    routes: readonly RouteEntry<T>[],
    memo?: RuleMemo,
    /**
     * Provider names, first listed first: of two routes with the same priority, the one whose
     * provider (the name after `@`) comes earlier is tried first; a provider not listed comes
     * after every listed one (static `providers.precedence`, Traefik v3.7).
     */
    precedence?: readonly string[],
    /** Static `hostResolver.cnameFlattening` (compile.ts createCompileContext). */
    cnameFlattening = false,
  ): {
    router: HttpRouter<T>;
    errors: { name: string; error: RuleError }[];
  } {
    const ctx = createCompileContext(cnameFlattening);
    const errors: { name: string; error: RuleError }[] = [];
    const compiled = [];
    for (let index = 0; index < routes.length; index++) {
      const entry = routes[index]!;
      const rule =
        memo === undefined
          ? compileRule(entry.rule, ctx, entry.syntax)
          : memo.compile(entry.rule, ctx, entry.syntax);
      if (!rule.ok) {
        errors.push({ name: entry.name, error: rule.error });
        continue;
      }
      const priority = entry.priority ? entry.priority : defaultPriority(entry.rule);
      const provider = providerRank(entry.name, precedence);
      compiled.push({ entry, index, priority, provider, name: entry.name, rule });
    }
    // As Traefik v3.7's muxer (pkg/muxer/http/mux.go routes.Less): priority first, then the
    // provider's place in providers.precedence; then the name, for an order that does not vary.
    compiled.sort((a, b) => {
      if (a.priority !== b.priority) return a.priority > b.priority ? -1 : 1;
      if (a.provider !== b.provider) return a.provider - b.provider;
      if (a.name !== b.name) return a.name < b.name ? -1 : 1;
      return a.index - b.index;
    });
    const hinted: HintedRoute<T>[] = compiled.map((c, rank) =>
      hintedRoute(rank, c.name, c.priority, c.entry.value, c.entry.entryPoints, c.rule),
    );
    const names = new Set<string>();
    for (const r of hinted) for (const ep of r.entryPoints) names.add(ep);
    const byEntryPoint = new Map<string, EntryIndex<T>>();
    for (const ep of names) byEntryPoint.set(ep, buildEntryIndex(hinted, ep));
    return {
      router: new HttpRouter(byEntryPoint, buildEntryIndex(hinted, undefined), ctx.routingPath, hinted),
      errors,
    };
  }

  /** Puts the non-empty host, path and residual lists for `req` in #lists; returns how many. */
  #gather(idx: EntryIndex<T>, req: RequestHead): number {
    const lists = this.#lists;
    let k = 0;
    const host = req.host;
    let byHost = idx.exact.get(host);
    if (byHost === undefined && idx.wild.size !== 0) {
      const dot = host.indexOf('.');
      if (dot > 0) byHost = idx.wild.get(host.slice(dot + 1));
    }
    if (byHost !== undefined) lists[k++] = byHost;
    if (!idx.paths.empty) {
      const byPath = idx.paths.lookup(this.#routingPath.get(req.path));
      if (byPath.length !== 0) lists[k++] = byPath;
    }
    if (idx.residual.length !== 0) lists[k++] = idx.residual;
    return k;
  }

  /** Appends the lists of the header values `req` carries to #lists from index `k`; returns the new count. */
  #gatherHeaders(idx: EntryIndex<T>, req: RequestHead, k: number): number {
    const lists = this.#lists;
    const pos = this.#pos;
    const names = idx.headerNames;
    const lnames = req.headers.lnames;
    const values = req.headers.values;
    for (let x = 0; x < names.length; x++) {
      const name = names[x]!;
      for (let i = 0; i < lnames.length; i++) {
        if (lnames[i] !== name) continue;
        const list = idx.headerValues[x]!.get(values[i]!);
        if (list === undefined) continue;
        pos[k] = 0;
        lists[k++] = list;
      }
    }
    return k;
  }

  /** The value of the highest-priority route on `entryPoint` whose rule matches, or undefined. */
  match(entryPoint: string, req: RequestHead): T | undefined {
    const idx = this.#byEntryPoint.get(entryPoint) ?? this.#anyEntryPoint;
    const lists = this.#lists;
    let k = this.#gather(idx, req);
    // Header lists are gathered (a scan of the request's fields) only once the walk reaches the
    // lowest rank filed under a header value, i.e. not at all when a better route matches first.
    let bound = idx.headerNames.length === 0 ? Number.POSITIVE_INFINITY : idx.headerMinRank;
    if (k === 1 && bound === Number.POSITIVE_INFINITY) {
      const list = lists[0]!;
      lists[0] = EMPTY;
      for (let i = 0; i < list.length; i++) {
        const c = list[i]!;
        if (c.match(req)) return c.value;
      }
      return undefined;
    }
    const pos = this.#pos;
    for (let x = 0; x < k; x++) pos[x] = 0;
    let last = -1;
    let found: Candidate<T> | undefined;
    for (;;) {
      // The head with the lowest rank among the k lists.
      let best = -1;
      let rank = Number.MAX_VALUE;
      for (let x = 0; x < k; x++) {
        const c = lists[x]![pos[x]!];
        if (c !== undefined && c.rank < rank) {
          rank = c.rank;
          best = x;
        }
      }
      if (rank >= bound) {
        k = this.#gatherHeaders(idx, req, k);
        bound = Number.POSITIVE_INFINITY;
        continue;
      }
      if (best === -1) break;
      const c = lists[best]![pos[best]!++]!;
      // One route may sit in the lists of two header values the request carries.
      if (rank === last) continue;
      last = rank;
      if (c.match(req)) {
        found = c;
        break;
      }
    }
    // Do not keep the lists of a past request reachable from the scratch.
    for (let x = 0; x < k; x++) lists[x] = EMPTY;
    return found?.value;
  }

  /**
   * Every route of the entry point in evaluation order, each evaluated (no short-circuit). The
   * first entry with `matched: true` is what `match` returns. Off the hot path: it walks every
   * route, including those the index rules out for this request (they show `matched: false`).
   */
  explain(entryPoint: string, req: RequestHead): RouteExplanation[] {
    const out: RouteExplanation[] = [];
    for (const r of this.#all) {
      if (r.entryPoints.length !== 0 && !r.entryPoints.includes(entryPoint)) continue;
      out.push({ name: r.full.name, priority: r.full.priority, matched: r.full.match(req) });
    }
    return out;
  }
}
