import { HeaderList } from '../../core/headers.ts';
import type { RequestHead } from '../../core/request.ts';

/** A request head for metrics tests: only the method and headers matter to the series. */
export function requestHead(
  method = 'GET',
  headers: ReadonlyArray<readonly [string, string]> = [],
): RequestHead {
  return {
    method,
    path: '/',
    query: '',
    host: 'example.test',
    hostPort: '',
    headers: HeaderList.from(headers),
    clientIp: '127.0.0.1',
    scheme: 'http',
    entryPoint: 'web',
    omitForwardedFor: false,
  };
}

export const GET = requestHead();
