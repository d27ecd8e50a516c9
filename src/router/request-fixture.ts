/** Request heads for router tests. Not part of the public surface. */
import { HeaderList } from '../core/headers.ts';
import type { RequestHead } from '../core/request.ts';

export interface RequestSpec {
  method?: string;
  host?: string;
  path?: string;
  query?: string;
  headers?: [string, string][];
  clientIp?: string;
  entryPoint?: string;
}

export function request(spec: RequestSpec = {}): RequestHead {
  return {
    method: spec.method ?? 'GET',
    path: spec.path ?? '/',
    query: spec.query ?? '',
    host: spec.host ?? 'example.com',
    hostPort: '',
    headers: HeaderList.from(spec.headers ?? []),
    clientIp: spec.clientIp ?? '192.0.2.1',
    scheme: 'http',
    entryPoint: spec.entryPoint ?? 'web',
    omitForwardedFor: false,
  };
}
