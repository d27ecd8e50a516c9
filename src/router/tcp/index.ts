/** TCP routing: Traefik's TCP rule language (HostSNI, HostSNIRegexp, ClientIP, ALPN) and router tables. */

export { type TcpMatch, type TcpRouteEntry, TcpRouter } from './tcp-router.ts';
export {
  type CompiledTcpRule,
  type ConnectionMeta,
  canonicalServerName,
  compileTcpRule,
  defaultTcpPriority,
  TCP_GRAMMAR,
  type TcpCompileResult,
  type TcpMatcher,
  type TcpMatcherName,
} from './tcp-rule.ts';
