import type { HeaderModifierConfig } from '../config/dynamic/gateway-middlewares.ts';
import type { HeaderList } from '../core/headers.ts';
import type { DirectResponse, RequestHead, ResponseHead } from '../core/request.ts';
import type { Middleware, MiddlewareFactory } from './middleware.ts';

/** One HTTPHeaderFilter, flattened at build time: the request path pays three short loops. */
class Edits {
  readonly #set: readonly (readonly [string, string])[];
  readonly #add: readonly (readonly [string, string])[];
  readonly #remove: readonly string[];

  /**
   * `request`: the edits of Host are left out. Traefik's requestHeaderModifier edits Go's
   * req.Header, whose Host field Go's transports never send (the Host sent upstream is req.Host),
   * so setting, adding or removing Host there changes nothing upstream; our head keeps Host among
   * the fields, so those edits are dropped here, at build time.
   */
  constructor(c: HeaderModifierConfig, request: boolean) {
    const keep = (n: string): boolean => !request || n.toLowerCase() !== 'host';
    this.#set = Object.entries(c.set).filter(([n]) => keep(n));
    this.#add = Object.entries(c.add).filter(([n]) => keep(n));
    this.#remove = c.remove.map((n) => n.toLowerCase()).filter(keep);
  }

  /** Traefik's order (pkg/middlewares/gatewayapi/headermodifier): set, then add, then remove. */
  apply(h: HeaderList): void {
    for (const [n, v] of this.#set) h.set(n, v);
    for (const [n, v] of this.#add) h.append(n, v);
    for (const n of this.#remove) h.delete(n);
  }
}

class RequestHeaderModifier implements Middleware {
  readonly #edits: Edits;

  constructor(c: HeaderModifierConfig) {
    this.#edits = new Edits(c, true);
  }

  onRequest(req: RequestHead): DirectResponse | undefined {
    this.#edits.apply(req.headers);
    return undefined;
  }
}

class ResponseHeaderModifier implements Middleware {
  readonly #edits: Edits;

  constructor(c: HeaderModifierConfig) {
    this.#edits = new Edits(c, false);
  }

  onResponse(_req: RequestHead, res: ResponseHead): void {
    this.#edits.apply(res.headers);
  }
}

/** Gateway API RequestHeaderModifier: `set` replaces a field, `add` appends one, `remove` drops it. */
export const requestHeaderModifierFactory: MiddlewareFactory<HeaderModifierConfig> = {
  type: 'requestHeaderModifier',
  create: (c) => new RequestHeaderModifier(c),
};

/** Gateway API ResponseHeaderModifier: the same edits on the response head. */
export const responseHeaderModifierFactory: MiddlewareFactory<HeaderModifierConfig> = {
  type: 'responseHeaderModifier',
  create: (c) => new ResponseHeaderModifier(c),
};
