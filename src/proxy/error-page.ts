import type { HeaderList } from '../core/headers.ts';
import type { RequestHead } from '../core/request.ts';
import { BODY_NONE, type BodyKind } from '../http1/request-head.ts';
import type { Middleware } from '../middleware/middleware.ts';
import type { OutgoingRequest, UpstreamStream } from '../upstream/stream.ts';
import { mirrorHeadTail } from './heads.ts';

/**
 * The request for an error page (the `errors` middleware): GET of the page's target with the
 * original request's header fields and no body, as Traefik's customerrors sends it. A HEAD
 * request asks for the page with HEAD: the client gets the page's head and no body either way
 * (Traefik sends GET and lets Go's server drop the body).
 */
export class ErrorPageRequest implements OutgoingRequest {
  readonly method: string;
  readonly target: string;
  readonly headers: HeaderList;
  readonly bodyKind: BodyKind = BODY_NONE;
  readonly contentLength = 0;
  readonly upgrade = null;
  /**
   * No peer appended: Traefik's customerrors sends a request it made (newRequest, no
   * RemoteAddr), so its proxy finds no address to add; the fields go as the request had them.
   */
  readonly forwardedFor = null;
  /** The status the client gets, whatever the page's own; 0: the page's own (ingress-nginx's). */
  readonly status: number;
  /**
   * The service middlewares the page request went through (Traefik v3.7, error-page-steps.ts):
   * their response phase runs on the page's answer first; null for most pages.
   */
  readonly steps: { readonly head: RequestHead; readonly ran: readonly Middleware[] } | null;
  /**
   * Its `errors` middleware is inside the route's retry's attempts (ErrorPage.inRetry): the
   * retry decides on `status` once the page answered.
   */
  inRetry = false;
  /**
   * The answer it replaces is the attempt's connection that failed before anything was sent:
   * Traefik's retry writer is still set to retry then (retry.go WrapHandler, ShouldRetry(true)
   * until a request byte left), which decides when the page cannot be fetched.
   */
  quiet = false;
  /** The exchange's tries when the page was asked for (its own picks are no attempt's). */
  tries = 0;
  #h1 = '';

  constructor(
    head: boolean,
    target: string,
    headers: HeaderList,
    status: number,
    steps: ErrorPageRequest['steps'] = null,
  ) {
    this.method = head ? 'HEAD' : 'GET';
    this.target = target;
    this.headers = headers;
    this.status = status;
    this.steps = steps;
  }

  h1Fields(): string {
    if (this.#h1 === '') this.#h1 = mirrorHeadTail(this.headers, this.method, 0, null);
    return this.#h1;
  }
}

/**
 * Where the rest of a request body goes once the response it led to is replaced by an error
 * page: read from the client (so that the connection stays in step) and dropped.
 */
export const DISCARD_BODY: UpstreamStream = {
  pendingBytes: 0,
  sendHead() {},
  sendBody: () => true,
  endBody() {},
  cork() {},
  uncork() {},
  pause() {},
  resume() {},
  markNotReusable() {},
  destroy() {},
};
