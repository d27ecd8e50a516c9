import { isIP } from 'node:net';
import type { IpAllowListConfig, IpWhiteListConfig } from '../config/dynamic/access-middlewares.ts';
import { type IpBlock, ipBlockContains, parseIpBlock } from '../core/ip.ts';
import type { DirectResponse, RequestHead } from '../core/request.ts';
import { statusText } from '../core/status-text.ts';
import type { Middleware, MiddlewareFactory } from './middleware.ts';
import { ipStrategyAddress } from './source-key.ts';

/** Which address of a request the allow list checks; '' = none (rejected). */
type ClientAddress = (req: RequestHead) => string;

/**
 * Traefik's ipAllowList (`pkg/middlewares/ipallowlist`): the request's address, chosen by
 * `ipStrategy`, must be in one of `sourceRange`, else `rejectStatusCode` (403) with its reason
 * phrase as body. Unlike a rate limit's key, an address the strategy cannot find is never
 * replaced by the peer's: Traefik's strategies return "" then, which no range contains, so a
 * request with too short an X-Forwarded-For is refused (depth) and so is one whose every hop is
 * excluded (excludedIPs). X-Forwarded-For is read as the entry point left it (only trusted peers
 * keep theirs), so a client cannot pick the address checked.
 */
export class IpAllowListMiddleware implements Middleware {
  readonly #blocks: readonly IpBlock[];
  readonly #address: ClientAddress;
  readonly #reject: DirectResponse;
  readonly #scratch = new Uint16Array(8);
  /** Requests refused (for metrics and tests). */
  rejected = 0;

  constructor(blocks: readonly IpBlock[], address: ClientAddress, status: number) {
    this.#blocks = blocks;
    this.#address = address;
    // Traefik's ipAllowLister.ServeHTTP marks the span (observability.SetStatusErrorf) with
    // "Rejecting IP %s: %v" and Checker.IsAuthorized's error (pkg/ip/checker.go).
    this.#reject = { status, body: statusText(status), spanError: (req) => rejectingIp(address(req)) };
  }

  onRequest = (req: RequestHead): DirectResponse | undefined => {
    const ip = hostOf(this.#address(req));
    if (ip !== '') {
      const blocks = this.#blocks;
      for (let i = 0; i < blocks.length; i++)
        if (ipBlockContains(blocks[i]!, ip, this.#scratch)) return undefined;
    }
    this.rejected++;
    return this.#reject;
  };
}

/**
 * Traefik's ipAllowLister span error for the address its strategy gave: "Rejecting IP <ip>: " and
 * the error of Checker.IsAuthorized (pkg/ip/checker.go): `empty IP address`, `unable to parse
 * address: <host>: can't parse IP from address <host>` (Contains, parseIP) or `"<ip>" matched
 * none of the trusted IPs` (%q of the address as given, port included).
 */
export function rejectingIp(ip: string): string {
  const host = hostOf(ip);
  let why: string;
  if (host === '') why = 'empty IP address';
  else if (isIP(host) === 0) why = `unable to parse address: ${host}: can't parse IP from address ${host}`;
  else why = `${JSON.stringify(ip)} matched none of the trusted IPs`;
  return `Rejecting IP ${ip}: ${why}`;
}

/**
 * The address without its port, as Traefik's Checker.IsAuthorized (pkg/ip/checker.go) takes it
 * with net.SplitHostPort before the check: an X-Forwarded-For entry `192.0.2.7:5678` or
 * `[2001:db8::7]:443` (some load balancers write them so) is checked as its address. What
 * SplitHostPort refuses (a bare IPv6 address, no port) is kept whole.
 */
export function hostOf(addr: string): string {
  const colon = addr.lastIndexOf(':');
  if (colon === -1) return addr;
  if (addr.charCodeAt(0) === 0x5b /* [ */) {
    const close = addr.indexOf(']');
    // `[host]:port`, nothing between `]` and `:`, and no other bracket.
    if (
      close === -1 ||
      close + 1 !== colon ||
      addr.indexOf('[', 1) !== -1 ||
      addr.indexOf(']', close + 1) !== -1
    )
      return addr;
    return addr.slice(1, close);
  }
  const host = addr.slice(0, colon);
  // More than one colon and no brackets: an IPv6 address (SplitHostPort: "too many colons").
  if (host.includes(':') || host.includes('[') || host.includes(']')) return addr;
  return host;
}

/** Traefik's IPStrategy.Get() for the allow list: depth, then excludedIPs, then the peer. */
export function clientAddress(s: IpAllowListConfig['ipStrategy']): ClientAddress {
  return s === undefined ? (req) => req.clientIp : ipStrategyAddress(s, false);
}

function createIpList(config: IpWhiteListConfig, status: number): IpAllowListMiddleware | { error: string } {
  const blocks: IpBlock[] = [];
  for (const r of config.sourceRange) {
    const b = parseIpBlock(r);
    if (b === undefined) return { error: `invalid sourceRange entry ${JSON.stringify(r)}` };
    blocks.push(b);
  }
  return new IpAllowListMiddleware(blocks, clientAddress(config.ipStrategy), status);
}

export const ipAllowListFactory: MiddlewareFactory<IpAllowListConfig> = {
  type: 'ipAllowList',
  create(config) {
    return createIpList(config, config.rejectStatusCode === 0 ? 403 : config.rejectStatusCode);
  },
};

/**
 * Traefik v3's deprecated `ipWhiteList` (pkg/middlewares/ipwhitelist): the same check, always
 * 403 (its reject has no status option), its span named `IPWhiteLister`.
 */
export const ipWhiteListFactory: MiddlewareFactory<IpWhiteListConfig> = {
  type: 'ipWhiteList',
  create(config) {
    return createIpList(config, 403);
  },
};
