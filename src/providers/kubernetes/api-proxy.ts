import { BlockList, isIP } from 'node:net';
import { EngineError } from '../engine-client.ts';

/**
 * Whether Go's httpproxy (http.ProxyFromEnvironment, which client-go's transport uses when the
 * kubeconfig names no proxy) leaves `host`:`port` out of the proxy for this NO_PROXY: `*`; an IP
 * or a CIDR; a name matching itself and its subdomains (`.name`: its subdomains only), each
 * optionally with `:port`. localhost and loopback addresses are never proxied.
 */
export function noProxy(host: string, port: string, list: string): boolean {
  const h = host
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
  if (h === 'localhost' || (isIP(h) !== 0 && isLoopbackIp(h))) return true;
  for (const raw of list.split(',')) {
    let entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;
    const slash = entry.indexOf('/');
    if (slash !== -1) {
      const ip = entry.slice(0, slash);
      const bits = Number(entry.slice(slash + 1));
      const family = isIP(ip);
      if (family === 0 || isIP(h) !== family || !Number.isInteger(bits)) continue;
      const list = new BlockList();
      try {
        list.addSubnet(ip, bits, family === 6 ? 'ipv6' : 'ipv4');
      } catch {
        continue;
      }
      if (list.check(h, family === 6 ? 'ipv6' : 'ipv4')) return true;
      continue;
    }
    if (isIP(entry) !== 0 || isIP(entry.replace(/^\[|\]$/g, '')) !== 0) {
      if (entry.replace(/^\[|\]$/g, '') === h) return true;
      continue;
    }
    let entryPort = '';
    const colon = entry.lastIndexOf(':');
    if (colon !== -1 && !entry.endsWith(']')) {
      entryPort = entry.slice(colon + 1);
      entry = entry.slice(0, colon);
    }
    entry = entry.replace(/^\[|\]$/g, '');
    if (isIP(entry) !== 0) {
      if (entry === h && (entryPort === '' || entryPort === port)) return true;
      continue;
    }
    if (entryPort !== '' && entryPort !== port) continue;
    if (entry.startsWith('*.')) entry = entry.slice(1);
    const subdomainsOnly = entry.startsWith('.');
    const domain = subdomainsOnly ? entry : `.${entry}`;
    if (h.endsWith(domain) || (!subdomainsOnly && h === entry)) return true;
  }
  return false;
}

function isLoopbackIp(ip: string): boolean {
  const a = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  return a === '::1' || /^127\./.test(a);
}

/**
 * The proxy client-go sends the API requests of `server` through: the kubeconfig cluster's
 * `proxy-url` (http.ProxyURL: every request, loopback included; clientcmd accepts http, https
 * and socks5, Node's agent the first two), else HTTPS_PROXY (https) or HTTP_PROXY (http), lower
 * case as a fallback, minus NO_PROXY (Go's http.ProxyFromEnvironment). Undefined: direct.
 */
export function apiProxy(server: string, env: NodeJS.ProcessEnv, proxyUrl?: string): string | undefined {
  if (proxyUrl !== undefined && proxyUrl !== '') {
    const scheme = proxyUrl.slice(0, proxyUrl.indexOf(':')).toLowerCase();
    if (scheme === 'socks5')
      throw new EngineError(`proxy-url ${proxyUrl}: a socks5 proxy is not supported (http or https)`);
    if (scheme !== 'http' && scheme !== 'https')
      throw new EngineError(
        `proxy-url ${proxyUrl}: scheme ${JSON.stringify(scheme)} not supported (http, https)`,
      );
    return proxyUrl;
  }
  const u = new URL(server);
  const https = u.protocol === 'https:';
  const pick = (a: string, b: string): string => env[a] || env[b] || '';
  const proxy = https ? pick('HTTPS_PROXY', 'https_proxy') : pick('HTTP_PROXY', 'http_proxy');
  if (proxy === '') return undefined;
  const port = u.port || (https ? '443' : '80');
  if (noProxy(u.hostname, port, pick('NO_PROXY', 'no_proxy'))) return undefined;
  // Go's httpproxy: a proxy without a scheme is http://.
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(proxy) ? proxy : `http://${proxy}`;
}
