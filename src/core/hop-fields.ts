/**
 * The hop-by-hop fields of a response, by lowercase name: in core because the codec (http1), the
 * heads the proxy writes and the access log's response fields all leave them out.
 */

/**
 * Hop-by-hop response fields (RFC 9110 §7.6.1): HOP_BY_HOP less Host, Content-Length,
 * Proxy-Authorization and HTTP2-Settings (a request field).
 */
export function isResponseHop(ln: string): boolean {
  switch (ln.length) {
    case 2:
      return ln === 'te';
    case 7:
      return ln === 'trailer' || ln === 'upgrade';
    case 10:
      return ln === 'connection' || ln === 'keep-alive';
    case 16:
      return ln === 'proxy-connection';
    case 17:
      return ln === 'transfer-encoding';
    case 18:
      return ln === 'proxy-authenticate';
    default:
      return false;
  }
}
