import { providerRank } from '../provider-rank.ts';
import type { RuleError } from '../rule/ast.ts';
import { type CompiledTcpRule, type ConnectionMeta, compileTcpRule, defaultTcpPriority } from './tcp-rule.ts';

/** One TCP router of an entry point's table. */
export interface TcpRouteEntry<T> {
  readonly name: string;
  readonly rule: string;
  /** The router's `ruleSyntax` (`v2`: Traefik v2's matchers). */
  readonly syntax?: string | undefined;
  /** 0 = Traefik's default (defaultTcpPriority). */
  readonly priority?: number;
  readonly value: T;
}

export interface TcpMatch<T> {
  readonly value: T;
  /** The router's rule is exactly ``HostSNI(`*`)`` (Traefik tries HTTPS catch-alls before it). */
  readonly catchAll: boolean;
  readonly name: string;
}

interface Compiled<T> extends TcpMatch<T> {
  readonly match: CompiledTcpRule['match'];
  readonly priority: number;
  /** The provider's place in `providers.precedence` (provider-rank.ts). */
  readonly provider: number;
}

/**
 * One entry point's TCP routers of one kind (cleartext, or TLS): the first router, by priority
 * (highest first; between equals, the provider's place in `providers.precedence`, as Traefik
 * v3.7's TCP router manager hands the muxer the router's provider, then the name, for a stable
 * choice), whose rule matches the connection. Built once per configuration; `match` allocates nothing.
 */
export class TcpRouter<T> {
  readonly #routes: readonly Compiled<T>[];

  private constructor(routes: Compiled<T>[]) {
    this.#routes = routes;
  }

  static build<T>(
    entries: readonly TcpRouteEntry<T>[],
    /** Provider names, first listed first (static `providers.precedence`). */
    precedence?: readonly string[],
  ): {
    router: TcpRouter<T>;
    errors: { name: string; error: RuleError }[];
  } {
    const routes: Compiled<T>[] = [];
    const errors: { name: string; error: RuleError }[] = [];
    for (const e of entries) {
      const c = compileTcpRule(e.rule, e.syntax);
      if (!c.ok) {
        errors.push({ name: e.name, error: c.error });
        continue;
      }
      const priority =
        e.priority === undefined || e.priority === 0 ? defaultTcpPriority(e.rule, c.catchAll) : e.priority;
      const provider = providerRank(e.name, precedence);
      routes.push({ name: e.name, value: e.value, catchAll: c.catchAll, match: c.match, priority, provider });
    }
    routes.sort(
      (a, b) =>
        b.priority - a.priority ||
        a.provider - b.provider ||
        (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
    );
    return { router: new TcpRouter(routes), errors };
  }

  get size(): number {
    return this.#routes.length;
  }

  match(c: ConnectionMeta): TcpMatch<T> | undefined {
    const rs = this.#routes;
    for (let i = 0; i < rs.length; i++) if (rs[i]!.match(c)) return rs[i];
    return undefined;
  }

  /** Routers in evaluation order, with their effective priority (for the admin API). */
  list(): readonly { readonly name: string; readonly priority: number }[] {
    return this.#routes.map((r) => ({ name: r.name, priority: r.priority }));
  }
}
