import type { SourceCriterionConfig } from '../config/dynamic/middlewares.ts';
import { type IpBlock, ipBlockContains, parseIPv6, parseIpBlock } from '../core/ip.ts';
import type { RequestHead } from '../core/request.ts';

/** The key a limit counts a request under (Traefik's sourceCriterion). */
export type SourceKey = (req: RequestHead) => string;

/** The criterion a middleware falls back to when none of the three is set. */
export type DefaultCriterion = { readonly requestHost: true } | undefined;

/**
 * Builds the key function once per middleware. X-Forwarded-For is read as the entry point left
 * it: overwritten with the peer address for an untrusted peer, so a client can never pick its
 * own key (or dodge a limit) by sending one. Where the criterion finds nothing (the header is
 * absent, X-Forwarded-For has fewer than `depth` addresses, or every one is excluded), the key is
 * empty, and all such requests share one bucket or count: Traefik's extractors return "" then
 * (oxy utils makeHeaderExtractor, pkg/ip DepthStrategy and CheckerStrategy GetIP).
 *
 * With no criterion set (absent, or none of the three), the key is `byDefault`: the peer address
 * unless given `{ requestHost: true }` (inFlightReq's default, Traefik's
 * pkg/middlewares/inflightreq `New`; rateLimit's is the remote address, ratelimiter `New`).
 */
export function sourceKey(c: SourceCriterionConfig | undefined, byDefault?: DefaultCriterion): SourceKey {
  const none =
    c === undefined || (c.ipStrategy === undefined && c.requestHeaderName === undefined && !c.requestHost);
  if (none) return byDefault?.requestHost === true ? host : peer;
  if (c.requestHost) return host;
  const header = c.requestHeaderName;
  if (header !== undefined) {
    const lname = header.toLowerCase();
    return (req) => req.headers.get(lname) ?? '';
  }
  const s = c.ipStrategy;
  // A key: an IPv6 client's subnet with its length (`2001:db8:1:2:0:0:0:0/64`).
  return s === undefined ? peer : ipStrategyAddress(s, true);
}

/**
 * Traefik's IPStrategy.Get() (pkg/ip), for a limit's key and the ipAllowList's check alike: the
 * `depth`-th address from the right of X-Forwarded-For ('' when it has fewer), else the first
 * one from the right not in `excludedIPs` ('' when all are), else the peer. `ipv6Subnet` groups
 * the peer and a depth's address by subnet (maskIPv6, with its length when `withBits`), not an
 * excludedIPs one: Traefik's PoolStrategy returns the address as is.
 */
export function ipStrategyAddress(
  s: NonNullable<SourceCriterionConfig['ipStrategy']>,
  withBits: boolean,
): (req: RequestHead) => string {
  const subnet = s.ipv6Subnet;
  const finish = subnet > 0 ? (ip: string) => maskIPv6(ip, subnet, withBits) : (ip: string) => ip;
  if (s.depth > 0) {
    const depth = s.depth;
    return (req) => {
      // Empty entries count, as Traefik's pkg/ip DepthStrategy splits the field on commas.
      const list = forwardedFor(req, true);
      return list.length >= depth ? finish(list[list.length - depth]!) : '';
    };
  }
  if (s.excludedIPs.length > 0) {
    const blocks = s.excludedIPs.map((t) => parseIpBlock(t)).filter((b): b is IpBlock => b !== undefined);
    const scratch = new Uint16Array(8);
    return (req) => {
      const list = forwardedFor(req);
      for (let i = list.length - 1; i >= 0; i--) {
        const ip = list[i]!;
        if (!blocks.some((b) => ipBlockContains(b, ip, scratch))) return ip;
      }
      return '';
    };
  }
  return subnet > 0 ? (req) => maskIPv6(req.clientIp, subnet, withBits) : peer;
}

function peer(req: RequestHead): string {
  return req.clientIp;
}

function host(req: RequestHead): string {
  return req.host;
}

/**
 * X-Forwarded-For as the peer sent it, its lines joined (as Traefik's entry point joins them,
 * forwardedheaders rewrite; the whole field dropped from an untrusted peer). The peer's own
 * address is not in it: it is appended only when the request is written upstream, as Traefik's
 * proxy does (pkg/proxy/httputil/proxy.go rewriteRequestBuilder), so `depth: 1` is the
 * rightmost address the trusted proxy in front of us reported. `keepEmpty` keeps the
 * empty entries (`a, , b`) as '': Traefik's DepthStrategy counts them (its PoolStrategy skips
 * them), so a depth that lands on one finds no address.
 */
export function forwardedFor(req: RequestHead, keepEmpty = false): string[] {
  const all = req.headers.getAll('x-forwarded-for');
  const out: string[] = [];
  for (const v of all)
    for (const part of v.split(',')) {
      const t = part.trim();
      if (t !== '' || keepEmpty) out.push(t);
    }
  return out;
}

/**
 * `2001:db8:1:2::5` with 64 → `2001:db8:1:2:0:0:0:0`, the subnet's first address (`withBits`:
 * `2001:db8:1:2:0:0:0:0/64`, a limit's key). IPv4, and what does not parse, is kept as is.
 */
export function maskIPv6(ip: string, bits: number, withBits = false): string {
  if (!ip.includes(':')) return ip;
  const g = new Uint16Array(8);
  if (!parseIPv6(ip, g)) return ip;
  for (let k = 0; k < 8; k++) {
    const keep = Math.min(16, Math.max(0, bits - k * 16));
    g[k] = g[k]! & (keep === 0 ? 0 : (0xffff << (16 - keep)) & 0xffff);
  }
  const masked = Array.from(g, (x) => x.toString(16)).join(':');
  return withBits ? `${masked}/${bits}` : masked;
}
