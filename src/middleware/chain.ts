import type { ChainConfig } from '../config/dynamic/middlewares.ts';
import type { RequestHead, ResponseHead } from '../core/request.ts';
import type {
  BuildContext,
  Middleware,
  MiddlewareFactory,
  RequestControl,
  RequestPhaseValue,
} from './middleware.ts';

/**
 * Traefik's chain: its members run as if listed in place of the chain. Members are flattened when
 * the chain is built (a chain of chains is one flat list), and `flattenMiddlewares` lets the route
 * builder splice them into the route's list so the response phase knows exactly which members ran.
 * The phases below are for a chain used without splicing: if member k answers, members before k
 * do not get onResponse (the runner sees the chain itself as the one that answered).
 */
export class ChainMiddleware implements Middleware {
  readonly members: readonly Middleware[];

  constructor(members: readonly Middleware[]) {
    this.members = members;
  }

  onRequest(req: RequestHead, ctl: RequestControl): RequestPhaseValue {
    const m = this.members;
    for (let i = 0; i < m.length; i++) {
      const r = m[i]!.onRequest?.(req, ctl);
      if (r !== undefined) return r;
    }
    return undefined;
  }

  onResponse(req: RequestHead, res: ResponseHead): void {
    const m = this.members;
    for (let i = m.length - 1; i >= 0; i--) m[i]!.onResponse?.(req, res);
  }
}

/** Replaces every chain by its members, recursively. Call once per route at build time. */
export function flattenMiddlewares(list: readonly Middleware[]): Middleware[] {
  const out: Middleware[] = [];
  for (const m of list) {
    if (m instanceof ChainMiddleware) out.push(...flattenMiddlewares(m.members));
    else out.push(m);
  }
  return out;
}

export const chainFactory: MiddlewareFactory<ChainConfig> = {
  type: 'chain',
  create(config: ChainConfig, ctx: BuildContext): Middleware | { error: string } {
    const resolved = ctx.resolve(config.middlewares);
    if ('error' in resolved) return { error: `chain: ${resolved.error}` };
    return new ChainMiddleware(flattenMiddlewares(resolved));
  },
};
