/**
 * Random dynamic configurations for the snapshot fuzzer (snapshot-fuzz-worker.ts): routers,
 * services of every kind (load balancers, weighted, mirroring, failover, highestRandomWeight,
 * with service middlewares on services and on child references) and middlewares of most types
 * (chains included), naming each other at random: existing objects, missing ones, themselves
 * (cycles), `@internal` and other providers' services. What the build must survive is the web of
 * references, not the keys' shapes (the configuration parser has its own fuzzer): each object is
 * written in a form Traefik accepts, most of the time. Every address is on loopback.
 */

type Rnd = () => number;

const pick = <T>(r: Rnd, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const int = (r: Rnd, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
const chance = (r: Rnd, p: number): boolean => r() < p;

/**
 * Names an object may give: one of `names`, or (one time in twenty-five) a name that leads nowhere or
 * somewhere odd. Services and middlewares mostly name those after them (`names` is what comes
 * after the one naming), so that most trees are deep and valid, and some loop.
 */
function refTo(
  r: Rnd,
  names: readonly string[],
  odd: readonly string[],
  all: readonly string[] = names,
): string {
  if (chance(r, 0.04)) return pick(r, odd);
  if (names.length > 0 && chance(r, 0.97)) return pick(r, names);
  return all.length > 0 ? pick(r, all) : pick(r, odd);
}

const ODD_SERVICES = ['missing', 'noop@internal', 'api@internal', 'other@docker', 's0@file'];
const ODD_MIDDLEWARES = ['missing', 'm0@file', 'auth@docker'];

function someOf(
  r: Rnd,
  names: readonly string[],
  odd: readonly string[],
  max: number,
  all: readonly string[] = names,
): string[] {
  if (all.length === 0 && chance(r, 0.9)) return [];
  return Array.from({ length: int(r, 0, max) }, () => refTo(r, names, odd, all));
}

function middleware(
  r: Rnd,
  later: readonly string[],
  mws: readonly string[],
  svcs: readonly string[],
): Record<string, unknown> {
  switch (int(r, 0, 21)) {
    case 0:
      return {
        headers: {
          customRequestHeaders: { 'X-A': 'v', 'X-Gone': '' },
          customResponseHeaders: { 'X-B': 'w' },
        },
      };
    case 1:
      return { stripPrefix: { prefixes: [pick(r, ['/p', '/', '/x/'])] } };
    case 2:
      return { stripPrefixRegex: { regex: ['/[a-z]+'] } };
    case 3:
      return { addPrefix: { prefix: pick(r, ['/p', '/a/b']) } };
    case 4:
      return { replacePath: { path: '/r' } };
    case 5:
      return { replacePathRegex: { regex: '^/(.*)', replacement: '/r/$1' } };
    case 6:
      return { redirectScheme: { scheme: 'https', permanent: chance(r, 0.5) } };
    case 7:
      return { redirectRegex: { regex: '^http://([^/]+)/(.*)', replacement: 'https://$1/$2' } };
    case 8:
    case 9:
      return { chain: { middlewares: someOf(r, later, ODD_MIDDLEWARES, 3, mws) } };
    case 10:
      return {
        retry: {
          attempts: int(r, 1, 4),
          initialInterval: '1ms',
          ...(chance(r, 0.5) && { status: ['500-599'] }),
        },
      };
    case 11:
      return { rateLimit: { average: int(r, 0, 50), burst: int(r, 1, 10) } };
    case 12:
      return { inFlightReq: { amount: int(r, 1, 4) } };
    case 13:
      return {
        circuitBreaker: {
          expression: pick(r, ['NetworkErrorRatio() > 0.5', 'ResponseCodeRatio(500, 600, 0, 600) > 0.25']),
        },
      };
    case 14:
      // test:test
      return { basicAuth: { users: ['test:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/'] } };
    case 15:
      return { ipAllowList: { sourceRange: pick(r, [['127.0.0.1/32'], ['10.0.0.0/8', '::1']]) } };
    case 16:
      return {
        buffering: {
          maxRequestBodyBytes: int(r, 0, 2000),
          ...(chance(r, 0.3) && { retryExpression: 'IsNetworkError() && Attempts() < 2' }),
        },
      };
    case 17:
      return { compress: {} };
    case 18:
      return {
        errors: { status: ['500-599'], service: refTo(r, svcs, ODD_SERVICES), query: '/{status}.html' },
      };
    case 19:
      // The discard port: refused at once on loopback.
      return { forwardAuth: { address: 'http://127.0.0.1:9/auth', trustForwardHeader: chance(r, 0.5) } };
    case 20:
      return { contentType: {} };
    default:
      return { passTLSClientCert: { pem: true } };
  }
}

function children(
  r: Rnd,
  later: readonly string[],
  svcs: readonly string[],
  mws: readonly string[],
): Record<string, unknown>[] {
  return Array.from({ length: chance(r, 0.05) ? 0 : int(r, 1, 3) }, () => ({
    name: refTo(r, later, ODD_SERVICES, svcs),
    weight: int(r, 0, 3),
    ...(chance(r, 0.25) && { middlewares: someOf(r, mws, ODD_MIDDLEWARES, 2) }),
  }));
}

function service(
  r: Rnd,
  later: readonly string[],
  svcs: readonly string[],
  mws: readonly string[],
): Record<string, unknown> {
  const own = chance(r, 0.3) ? { middlewares: someOf(r, mws, ODD_MIDDLEWARES, 2) } : {};
  const health = chance(r, 0.3) ? { healthCheck: {} } : {};
  switch (int(r, 0, 9)) {
    case 0:
      return {
        ...own,
        weighted: {
          services: children(r, later, svcs, mws),
          ...health,
          ...(chance(r, 0.3) && { sticky: { cookie: {} } }),
        },
      };
    case 1:
      return {
        ...own,
        mirroring: {
          service: refTo(r, later, ODD_SERVICES, svcs),
          mirrors: Array.from({ length: int(r, 0, 2) }, () => ({
            name: refTo(r, later, ODD_SERVICES, svcs),
            percent: int(r, 0, 100),
            // Traefik v3.7's MirrorService.Middlewares: run on the mirror's copies.
            ...(chance(r, 0.3) && { middlewares: someOf(r, mws, ODD_MIDDLEWARES, 2) }),
          })),
          ...(chance(r, 0.3) && { middlewares: someOf(r, mws, ODD_MIDDLEWARES, 2) }),
          ...health,
        },
      };
    case 2:
      return {
        ...own,
        failover: {
          service: refTo(r, later, ODD_SERVICES, svcs),
          fallback: refTo(r, later, ODD_SERVICES, svcs),
          ...(chance(r, 0.3) && { middlewares: someOf(r, mws, ODD_MIDDLEWARES, 2) }),
          ...(chance(r, 0.3) && { fallbackMiddlewares: someOf(r, mws, ODD_MIDDLEWARES, 2) }),
          // Ours: the fallback also takes the answers of these statuses; Traefik v3.7's `errors`.
          ...(chance(r, 0.25) && { statusCodes: ['500-599'] }),
          ...(chance(r, 0.25) && { errors: { status: ['500-504'], maxRequestBodyBytes: int(r, -1, 4096) } }),
          ...health,
        },
      };
    case 3:
      return { ...own, highestRandomWeight: { services: children(r, later, svcs, mws), ...health } };
    default: {
      const servers = Array.from({ length: int(r, 0, 3) }, () => ({
        url: `http://127.0.0.${int(r, 1, 3)}:${int(r, 9001, 9004)}`,
        ...(chance(r, 0.3) && { weight: int(r, 0, 3) }),
      }));
      return {
        ...own,
        loadBalancer: {
          servers,
          ...(chance(r, 0.2) && { sticky: { cookie: { name: 'lb' } } }),
          ...(chance(r, 0.2) && { healthCheck: { path: '/health', interval: '1h' } }),
          ...(chance(r, 0.2) && { passHostHeader: false }),
        },
      };
    }
  }
}

const RULES = [
  'PathPrefix(`/`)',
  'Host(`a.test`)',
  'Path(`/x`)',
  'Host(`a.test`) && PathPrefix(`/p`)',
  'Method(`POST`) || Path(`/x`)',
  '!Host(`b.test`)',
];

const TCP_RULES = [
  'HostSNI(`*`)',
  'HostSNI(`a.test`)',
  'HostSNI(`a.test`) || ClientIP(`127.0.0.1`)',
  'ClientIP(`::1`)',
];

/** TCP or UDP routers and services (and TCP middlewares) naming each other as the HTTP ones do. */
function layer4(r: Rnd, tcp: boolean): Record<string, unknown> {
  const svcs = Array.from({ length: int(r, 1, 4) }, (_, i) => `t${i}`);
  const mws = tcp ? Array.from({ length: int(r, 0, 2) }, (_, i) => `tm${i}`) : [];
  const routers: Record<string, unknown> = {};
  for (let i = int(r, 0, 3); i > 0; i--) {
    const tls = !tcp || chance(r, 0.5) ? {} : { tls: chance(r, 0.5) ? { passthrough: true } : {} };
    routers[`tr${i}`] = {
      ...(tcp && { rule: pick(r, TCP_RULES) }),
      service: refTo(r, svcs, ['missing']),
      ...(tcp && chance(r, 0.4) && { middlewares: someOf(r, mws, ['missing'], 2) }),
      ...(chance(r, 0.5) && { entryPoints: [pick(r, ['web', 'nope'])] }),
      ...tls,
    };
  }
  const services: Record<string, unknown> = {};
  svcs.forEach((name, i) => {
    services[name] = chance(r, 0.3)
      ? {
          weighted: {
            services: children(r, svcs.slice(i + 1), svcs, []).map(({ name, weight }) => ({ name, weight })),
          },
        }
      : {
          loadBalancer: {
            servers: Array.from({ length: int(r, 0, 2) }, () => ({
              address: `127.0.0.1:${int(r, 9001, 9004)}`,
            })),
          },
        };
  });
  const middlewares: Record<string, unknown> = {};
  for (const m of mws)
    middlewares[m] = chance(r, 0.5)
      ? { ipAllowList: { sourceRange: ['127.0.0.1/32'] } }
      : { inFlightConn: { amount: int(r, 1, 3) } };
  return { routers, services, ...(tcp && { middlewares }) };
}

/** The dynamic configuration of `seed`'s case, as the file provider would read it. */
export function generateConfig(r: Rnd): Record<string, unknown> {
  const svcs = Array.from({ length: int(r, 1, 8) }, (_, i) => `s${i}`);
  const mws = Array.from({ length: int(r, 0, 7) }, (_, i) => `m${i}`);
  const routers: Record<string, unknown> = {};
  for (let i = int(r, 1, 6); i > 0; i--) {
    routers[`r${i}`] = {
      rule: pick(r, RULES),
      service: refTo(r, svcs, ODD_SERVICES),
      ...(chance(r, 0.6) && { middlewares: someOf(r, mws, ODD_MIDDLEWARES, 3) }),
      ...(chance(r, 0.3) && { priority: int(r, 0, 100) }),
      ...(chance(r, 0.1) && { entryPoints: [pick(r, ['web', 'nope'])] }),
    };
  }
  const services: Record<string, unknown> = {};
  svcs.forEach((s, i) => {
    services[s] = service(r, svcs.slice(i + 1), svcs, mws);
  });
  const middlewares: Record<string, unknown> = {};
  mws.forEach((m, i) => {
    middlewares[m] = middleware(r, mws.slice(i + 1), mws, svcs);
  });
  return {
    http: { routers, services, middlewares },
    ...(chance(r, 0.3) && { tcp: layer4(r, true) }),
    ...(chance(r, 0.2) && { udp: layer4(r, false) }),
  };
}

/** The requests each case sends through the routes it built. */
export const REQUESTS: readonly { readonly url: string; readonly method: string }[] = [
  { url: 'http://a.test/', method: 'GET' },
  { url: 'http://a.test/p/q?x=1', method: 'POST' },
  { url: 'http://b.test/x', method: 'GET' },
];
