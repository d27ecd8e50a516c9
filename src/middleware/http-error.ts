import type { DirectResponse } from '../core/request.ts';
import { escapeErrorText } from './path.ts';

/** The fields Go's http.Error sets, which Traefik's middlewares answer their errors with. */
const HTTP_ERROR_FIELDS: readonly (readonly [string, string])[] = [
  ['Content-Type', 'text/plain; charset=utf-8'],
  ['X-Content-Type-Options', 'nosniff'],
];

/** Go's http.Error(rw, text, status): its two fields, the text and a newline. */
export function goHttpError(status: number, text: string): DirectResponse {
  return { status, headers: HTTP_ERROR_FIELDS, body: `${text}\n` };
}

/** Traefik's answer to a new path that url.PathUnescape refuses: a 500 with the Go error's text. */
export function badEscapeAnswer(path: string): DirectResponse {
  return goHttpError(500, escapeErrorText(path) ?? 'invalid URL escape');
}
