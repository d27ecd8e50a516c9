/**
 * The OpenTelemetry semantic-convention histograms Traefik adds when `metrics.otlp` is set
 * (pkg/observability/metrics/otel.go NewSemConvMetricRegistry, semconv v1.37 httpconv):
 * `http.server.request.duration`, recorded by the entry point's SemConvServerMetrics middleware
 * (pkg/middlewares/observability/semconv.go) for each request, and `http.client.request.duration`,
 * recorded by the observability round tripper (pkg/proxy/httputil/observability.go) for each call
 * to a server, retries included; both in seconds, with `metrics.otlp.explicitBoundaries` as their
 * buckets. They go to the OTLP exporter only: they are kept in the registry's text exposition
 * under the internal names below (so that the workers' are summed like the rest) and renamed,
 * their attributes typed, when a push is encoded (otlp-metrics.ts); Prometheus never shows them.
 *
 * Per request, only when `metrics.otlp` is on: one label string (the series' key) and a Map
 * lookup; a new series allocates its buckets once.
 */
import { escapeLabelValue, formatValue } from './exposition.ts';
import type { FamilySet } from './family-set.ts';

/** Internal family name → the OTLP metric it is. */
export const SEMCONV_METRICS: Readonly<Record<string, { name: string; description: string }>> = {
  traefik_semconv_http_server_request_duration_seconds: {
    name: 'http.server.request.duration',
    description: 'Duration of HTTP server requests.',
  },
  traefik_semconv_http_client_request_duration_seconds: {
    name: 'http.client.request.duration',
    description: 'Duration of HTTP client requests.',
  },
};
const SERVER = 'traefik_semconv_http_server_request_duration_seconds';
const CLIENT = 'traefik_semconv_http_client_request_duration_seconds';

/** Exposition label → OTLP attribute key, and whether Go records it as an int. */
export const SEMCONV_ATTRIBUTES: Readonly<Record<string, { key: string; int: boolean }>> = {
  error_type: { key: 'error.type', int: false },
  http_request_method: { key: 'http.request.method', int: false },
  http_response_status_code: { key: 'http.response.status_code', int: true },
  http_route: { key: 'http.route', int: false },
  network_protocol_name: { key: 'network.protocol.name', int: false },
  network_protocol_version: { key: 'network.protocol.version', int: false },
  server_address: { key: 'server.address', int: false },
  server_port: { key: 'server.port', int: true },
  url_scheme: { key: 'url.scheme', int: false },
};

interface Series {
  /** Per bucket (not cumulative): bounds.length + 1, the last above every bound. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/** The request's protocol as Go's Request.Proto names it: "HTTP/1.1", "HTTP/2.0". */
export type GoProto = 'HTTP/1.0' | 'HTTP/1.1' | 'HTTP/2.0';

/**
 * Traefik's observability.Proto: "1.0", "1.1", and the protocol as it is otherwise; Go's HTTP/2
 * server names its requests "HTTP/2.0", which that switch ("HTTP/2") does not match.
 */
function protoVersion(proto: GoProto): string {
  return proto === 'HTTP/1.1' ? '1.1' : proto === 'HTTP/1.0' ? '1.0' : proto;
}

function protoName(proto: GoProto): string {
  return proto === 'HTTP/1.1' ? 'http/1.1' : proto === 'HTTP/1.0' ? 'http/1.0' : 'http/2.0';
}

/** httpconv's RequestMethodAttr of the client side (Traefik's switch): others are `_OTHER`. */
function clientMethod(method: string): string {
  switch (method) {
    case 'GET':
    case 'POST':
    case 'PUT':
    case 'DELETE':
    case 'HEAD':
    case 'OPTIONS':
    case 'PATCH':
      return method;
    default:
      return '_OTHER';
  }
}

function q(v: string): string {
  return escapeLabelValue(v);
}

/** Go's net.SplitHostPort on a Host, else the Host (its brackets dropped): Traefik's serverAddress. */
function hostOnly(authority: string): string {
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    return end === -1 ? authority : authority.slice(1, end);
  }
  const colon = authority.indexOf(':');
  if (colon === -1) return authority;
  // More than one colon without brackets: SplitHostPort fails, the Host is kept as it is.
  return authority.indexOf(':', colon + 1) === -1 ? authority.slice(0, colon) : authority;
}

export class SemConvMetrics {
  readonly #bounds: Float64Array;
  readonly #server = new Map<string, Series>();
  readonly #client = new Map<string, Series>();

  constructor(bounds: readonly number[]) {
    this.#bounds = Float64Array.from([...new Set(bounds)].filter(Number.isFinite).sort((a, b) => a - b));
  }

  /**
   * One request through an entry point (semconv.go ServeHTTP): `authority` is the Host as sent,
   * `localPort` the port the connection came in on (Go's LocalAddrContextKey), `forwardedProto`
   * the request's X-Forwarded-Proto once set (the url.scheme Traefik reads), `route` the matched
   * router's rule ('' when no router took the request: no `http.route`, as HTTPRouteFromContext
   * finds none for the entry point's 404).
   */
  server(
    method: string,
    status: number,
    proto: GoProto,
    authority: string,
    localPort: number,
    forwardedProto: string,
    route: string,
    seconds: number,
  ): void {
    // Attributes as Go's attribute.Set orders them (by key); the method last in Traefik's call
    // wins, and it is the request's own.
    const address = authority === '' ? '' : hostOnly(authority);
    const key =
      `${errorType(status, ' ;')}http_request_method="${q(method)}",http_response_status_code="${status}",` +
      `${route === '' ? '' : `http_route="${q(route)}",`}` +
      `network_protocol_name="${protoName(proto)}",network_protocol_version="${q(protoVersion(proto))}",` +
      `${address === '' ? '' : `server_address="${q(address)}",`}${localPort > 0 ? `server_port="${localPort}",` : ''}` +
      `url_scheme="${q(forwardedProto)}"`;
    this.#observe(this.#server, key, seconds);
  }

  /**
   * One call to a server (observability.go RoundTrip): `serverUrl` the server's URL, `status` its
   * answer's or the one Traefik's ComputeStatusCode gives a failure (502, 504, 499). Traefik's
   * director sends every call as HTTP/1.1 (its Proto), whatever the server speaks.
   */
  client(method: string, status: number, serverUrl: string, forwardedProto: string, seconds: number): void {
    const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)/.exec(serverUrl);
    const scheme = m === null ? '' : m[1]!.toLowerCase();
    let host = m === null ? '' : m[2]!;
    const at = host.lastIndexOf('@');
    if (at !== -1) host = host.slice(at + 1);
    // server.address is the URL's Host, port included (httpconv's serverAddress argument, which
    // Traefik passes req.URL.Host); server.port its port, else 80 or 443 by scheme.
    const portMatch = /:(\d+)$/.exec(host);
    const port =
      portMatch !== null
        ? Number(portMatch[1])
        : scheme === 'https'
          ? 443
          : scheme === 'http' || scheme === 'h2c'
            ? 80
            : 0;
    const key =
      `${errorType(status, '')}http_request_method="${clientMethod(method)}",http_response_status_code="${status}",` +
      `network_protocol_name="http/1.1",network_protocol_version="1.1",server_address="${q(host)}",` +
      `server_port="${port}",url_scheme="${q(forwardedProto)}"`;
    this.#observe(this.#client, key, seconds);
  }

  #observe(map: Map<string, Series>, key: string, seconds: number): void {
    let s = map.get(key);
    if (s === undefined) {
      s = { counts: new Float64Array(this.#bounds.length + 1), sum: 0, count: 0 };
      map.set(key, s);
    }
    const b = this.#bounds;
    let i = 0;
    // Upper bounds inclusive, as the Go SDK's explicit-bucket histogram (and Prometheus's le).
    while (i < b.length && seconds > b[i]!) i++;
    s.counts[i]!++;
    s.sum += seconds;
    s.count++;
  }

  /** Both histograms in the exposition, under their internal names. */
  render(set: FamilySet): void {
    this.#render(set, SERVER, this.#server);
    this.#render(set, CLIENT, this.#client);
  }

  #render(set: FamilySet, name: string, map: Map<string, Series>): void {
    if (map.size === 0) return;
    const lines = set.lines(name, 'histogram', SEMCONV_METRICS[name]!.description);
    if (lines === null) return;
    const b = this.#bounds;
    for (const [labels, s] of map) {
      let cumulative = 0;
      for (let i = 0; i < b.length; i++) {
        cumulative += s.counts[i]!;
        lines.push(`${name}_bucket{${labels},le="${formatValue(b[i]!)}"} ${formatValue(cumulative)}`);
      }
      lines.push(`${name}_bucket{${labels},le="+Inf"} ${formatValue(s.count)}`);
      lines.push(`${name}_sum{${labels}} ${formatValue(s.sum)}`);
      lines.push(`${name}_count{${labels}} ${formatValue(s.count)}`);
    }
  }
}

/**
 * error.type: the status as text from 400 on, a sentence for one outside 100-599 (the server
 * side's has " ;" in it, the client side's not: Traefik's two messages).
 */
function errorType(status: number, sep: string): string {
  if (status < 100 || status >= 600) return `error_type="Invalid HTTP status code${sep} ${status}",`;
  return status >= 400 ? `error_type="${status}",` : '';
}
