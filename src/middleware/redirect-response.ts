import type { DirectResponse } from '../core/request.ts';

const TEXT = [
  [301, 'Moved Permanently'],
  [302, 'Found'],
  [307, 'Temporary Redirect'],
  [308, 'Permanent Redirect'],
] as const;
const BODY = new Map<number, string>(TEXT);

/**
 * Traefik's redirect status: 302 (or 301 when permanent) for GET, and 307 (or 308) for every other
 * method, HEAD included, so that clients replay the method and body (RFC 9110 §15.4.8-9).
 */
export function redirectStatus(method: string, permanent: boolean): number {
  if (method === 'GET') return permanent ? 301 : 302;
  return permanent ? 308 : 307;
}

export function redirectResponse(method: string, location: string, permanent: boolean): DirectResponse {
  const status = redirectStatus(method, permanent);
  return {
    status,
    headers: [
      ['Location', location],
      ['Content-Type', 'text/plain; charset=utf-8'],
    ],
    body: BODY.get(status)!,
  };
}

/** Host as it goes into a URL: IPv6 literals need their brackets back. */
export function urlHost(host: string): string {
  return host.includes(':') && host.charCodeAt(0) !== 91 /* [ */ ? `[${host}]` : host;
}
