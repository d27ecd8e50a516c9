import { randomUUID } from 'node:crypto';
import type { Middleware, Plugin, PluginRequest, PluginResponse } from 'traffic-management/plugin';
import { z } from 'zod';

/*
 * request-id: every request gets an id in a header (X-Request-Id by default) that the backend
 * sees and the client gets back, so one request can be followed through both logs. An id that
 * arrives with the request is kept when it looks like one (a proxy in front made it), unless
 * `trustIncoming` is false; otherwise a new one is made: `prefix` followed by a random UUID.
 *
 *   experimental:
 *     localPlugins:
 *       requestId:
 *         path: examples/plugins/request-id
 *   http:
 *     middlewares:
 *       ids:
 *         plugin:
 *           requestId:
 *             prefix: edge-1-
 */

// RFC 9110 §5.1: a header name is a token.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// What an incoming id may hold: enough for UUIDs, ULIDs and prefixed forms, nothing a log could misread.
const ID = /^[A-Za-z0-9._:-]{1,128}$/;

export const schema = z.strictObject({
  /** The request header that carries the id, and the response header that echoes it. */
  headerName: z.string().regex(TOKEN, 'must be a header name').default('X-Request-Id'),
  /** Keep an id that arrives with the request (when it looks like one). */
  trustIncoming: z.boolean().default(true),
  /** Send the id back on the response. */
  echo: z.boolean().default(true),
  /** Put before each id this plugin makes (an instance name, say). */
  prefix: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{0,64}$/, 'letters, digits, `.`, `_`, `:` and `-` only (at most 64)')
    .default(''),
});

export type RequestIdOptions = z.output<typeof schema>;

class RequestId implements Middleware {
  readonly #name: string;
  readonly #lname: string;
  readonly #options: RequestIdOptions;

  constructor(options: RequestIdOptions) {
    this.#options = options;
    this.#name = options.headerName;
    this.#lname = options.headerName.toLowerCase();
  }

  readonly onRequest = (req: PluginRequest): undefined => {
    const incoming = req.headers.getAll(this.#lname);
    // One well-formed id is kept; none, several or a malformed one is replaced.
    if (this.#options.trustIncoming && incoming.length === 1 && ID.test(incoming[0]!)) return undefined;
    req.headers.set(this.#name, `${this.#options.prefix}${randomUUID()}`);
    return undefined;
  };

  readonly onResponse = (req: PluginRequest, res: PluginResponse): void => {
    const id = req.headers.get(this.#lname);
    if (id !== undefined) res.headers.set(this.#name, id);
  };
}

export const plugin: Plugin<RequestIdOptions> = {
  schema,
  create(options) {
    const m = new RequestId(options);
    // Without echo, the response phase is left out: the route does not run it at all.
    return options.echo ? m : { onRequest: m.onRequest };
  },
};
