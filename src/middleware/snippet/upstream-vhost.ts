import type { UpstreamVhostConfig } from '../../config/dynamic/middlewares.ts';
import type { RequestHead } from '../../core/request.ts';
import type { Middleware, MiddlewareFactory } from '../middleware.ts';
import { interpolate, type Vars } from './variables.ts';

/**
 * Traefik v3.7's UpstreamVhost (pkg/middlewares/ingressnginx/upstreamvhost ServeHTTP): the Host
 * sent upstream is `vhost` with its nginx variables replaced for this request (ReplaceVariables:
 * `$host`, `$http_*`… and the location's `vars`).
 */
class UpstreamVhost implements Middleware {
  readonly #vhost: string;
  readonly #vars: Vars;

  constructor(vhost: string, vars: Vars) {
    this.#vhost = vhost;
    this.#vars = vars;
  }

  onRequest(req: RequestHead): undefined {
    req.headers.set('Host', interpolate(this.#vhost, req, this.#vars));
    return undefined;
  }
}

export const upstreamVhostFactory: MiddlewareFactory<UpstreamVhostConfig> = {
  type: 'upstreamVhost',
  create(config) {
    return new UpstreamVhost(config.vhost, new Map(Object.entries(config.vars)));
  },
};
