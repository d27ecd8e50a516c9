import { hostname } from 'node:os';
import { type RequestHead, withQuery } from '../../core/request.ts';
import { fromByteString, unescapePath } from '../path.ts';

/**
 * nginx variables in snippet values, as Traefik's ReplaceVariables
 * (pkg/middlewares/ingressnginx/interpolation.go): `$name`, `${name}` and `$1`…`$9`; a variable
 * it does not know is left as written.
 */
const VAR = /\$\{?([a-zA-Z_][a-zA-Z0-9_]*)\}?|\$[1-9]/g;

let HOSTNAME: string | undefined;

/** The snippet's own variables (`set`, captures of an `if` regex), keyed with their `$`. */
export type Vars = Map<string, string>;

/** Go's url.Values.Get on the raw query: the first value of `name`, `+` as a space. */
function queryArg(query: string, name: string): string {
  if (query === '') return '';
  for (const part of query.split('&')) {
    const eq = part.indexOf('=');
    const k = eq === -1 ? part : part.slice(0, eq);
    if (decodeQuery(k) !== name) continue;
    return eq === -1 ? '' : decodeQuery(part.slice(eq + 1));
  }
  return '';
}

function decodeQuery(s: string): string {
  const plus = s.replaceAll('+', ' ');
  try {
    return decodeURIComponent(plus);
  } catch {
    return plus;
  }
}

function cookie(req: RequestHead, name: string): string {
  for (const line of req.headers.getAll('cookie')) {
    for (const part of line.split(';')) {
      const eq = part.indexOf('=');
      if (eq === -1) continue;
      if (part.slice(0, eq).trim() !== name) continue;
      let v = part.slice(eq + 1).trim();
      if (v.length > 1 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
      return v;
    }
  }
  return '';
}

/** The request's path decoded (Go's URL.Path): `$uri`, and what rewrite and location match. */
export function decodedPath(req: RequestHead): string {
  const raw = unescapePath(req.path);
  return raw === undefined ? req.path : fromByteString(raw);
}

/** One variable's value; undefined when Traefik does not know it (the text stays). */
function value(name: string, req: RequestHead, vars: Vars | null): string | undefined {
  if (name.startsWith('http_'))
    return req.headers.getAll(name.slice(5).replaceAll('_', '-').toLowerCase()).join(',');
  if (name.startsWith('arg_')) return queryArg(req.query, name.slice(4));
  if (name.startsWith('cookie_')) return cookie(req, name.slice(7));
  switch (name) {
    case 'host':
      return req.host;
    case 'best_http_host':
      return req.hostPort === '' ? req.host : `${req.host}:${req.hostPort}`;
    case 'hostname':
      // Read once: the machine's name does not change under a running proxy.
      if (HOSTNAME === undefined) HOSTNAME = hostname();
      return HOSTNAME;
    case 'request_uri':
      return withQuery(req.path, req.query);
    case 'escaped_request_uri':
      return encodeURIComponent(withQuery(req.path, req.query)).replace(/[!'()*]|%20/g, (c) =>
        c === '%20' ? '+' : `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
      );
    case 'scheme':
      return req.scheme;
    case 'args':
    case 'query_string':
      return req.query;
    case 'remote_addr':
      return req.clientIp;
    case 'proxy_add_x_forwarded_for': {
      // Middlewares see X-Forwarded-For before the proxy appends the peer (on each upstream head).
      const prior = req.headers.getAll('x-forwarded-for').join(', ');
      return prior === '' ? req.clientIp : `${prior}, ${req.clientIp}`;
    }
    case 'request_method':
      return req.method;
    case 'uri':
    case 'document_uri':
      return decodedPath(req);
    case 'server_name':
      return req.host;
    case 'server_port':
      return req.hostPort !== '' ? req.hostPort : req.scheme === 'https' ? '443' : '80';
    case 'content_type':
      return req.headers.get('content-type') ?? '';
    case 'content_length':
      return req.headers.get('content-length') ?? '';
    case 'is_args':
      return req.query === '' ? '' : '?';
    default:
      return vars?.get(`$${name}`);
  }
}

/** `s` with its variables replaced (Traefik's ReplaceVariables). */
export function interpolate(s: string, req: RequestHead, vars: Vars | null): string {
  if (!s.includes('$')) return s;
  return s.replace(VAR, (m, name: string | undefined) => {
    const v = name === undefined ? vars?.get(m) : value(name, req, vars);
    return v ?? m;
  });
}
