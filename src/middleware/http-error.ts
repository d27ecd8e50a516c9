import type { DirectResponse, RequestHead } from '../core/request.ts';
import { escapeErrorText } from './path.ts';

/** The fields Go's http.Error sets, which Traefik's middlewares answer their errors with. */
const HTTP_ERROR_FIELDS: readonly (readonly [string, string])[] = [
  ['Content-Type', 'text/plain; charset=utf-8'],
  ['X-Content-Type-Options', 'nosniff'],
];

/** Go's http.Error(rw, text, status): its two fields, the text and a newline. */
export function goHttpError(
  status: number,
  text: string,
  spanError?: DirectResponse['spanError'],
): DirectResponse {
  const body = `${text}\n`;
  return spanError === undefined
    ? { status, headers: HTTP_ERROR_FIELDS, body }
    : { status, headers: HTTP_ERROR_FIELDS, body, spanError };
}

/**
 * Traefik's answer to a new path that url.PathUnescape refuses: a 500 with the Go error's text.
 * `spanError`: the middleware's message for a traced request's span (made once with it).
 */
export function badEscapeAnswer(path: string, spanError?: (req: RequestHead) => string): DirectResponse {
  return goHttpError(500, escapeErrorText(path) ?? 'invalid URL escape', spanError);
}

/**
 * The span error of Traefik's replacePathRegex (and rewriteTarget) for a new path `path` that
 * url.PathUnescape refuses: observability.SetStatusErrorf(ctx, "Unable to unescape url raw path
 * %q: %v", req.URL.RawPath, err).
 */
export function unescapeSpanError(path: string): string {
  return `Unable to unescape url raw path ${JSON.stringify(path)}: ${escapeErrorText(path) ?? 'invalid URL escape'}`;
}
