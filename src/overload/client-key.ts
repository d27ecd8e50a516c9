import { parseIPv6, unwrapIp } from '../core/ip.ts';

const scratch = new Uint16Array(8);

/**
 * Who a connection counts against for `maxConnectionsPerIP`: the IPv4 address (an IPv4-mapped
 * IPv6 address is its IPv4 address), or the /64 network of an IPv6 address. A /64 is what one
 * subscriber gets (RFC 6177 and common practice): counting single IPv6 addresses would let a
 * client open as many connections as it has addresses, i.e. without limit. '' when the socket
 * has no address (it closed before we asked): such a connection is not counted.
 */
export function clientKey(remoteAddress: string | undefined): string {
  const ip = unwrapIp(remoteAddress);
  if (!ip.includes(':')) return ip;
  if (!parseIPv6(ip, scratch)) return ip;
  const g = scratch;
  return `${g[0]!.toString(16)}:${g[1]!.toString(16)}:${g[2]!.toString(16)}:${g[3]!.toString(16)}::/64`;
}
