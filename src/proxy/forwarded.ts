import type { HeaderList } from '../core/headers.ts';

/**
 * X-Forwarded-* and X-Real-IP, as Traefik sets them. From an untrusted peer, whatever the client
 * claimed is dropped (Forwarded too) and replaced: otherwise a client could forge its own address
 * for every IP-based decision behind us. From a trusted proxy, X-Forwarded-For is extended and
 * the other fields are kept when present.
 */
export function applyForwardedHeaders(
  headers: HeaderList,
  trusted: boolean,
  clientIp: string,
  scheme: string,
  authority: string,
  hostPort: string,
  listenPort: string,
): void {
  const port = hostPort !== '' ? hostPort : listenPort;
  if (!trusted) {
    headers.delete('x-forwarded-for');
    headers.delete('x-forwarded-proto');
    headers.delete('x-forwarded-host');
    headers.delete('x-forwarded-port');
    headers.delete('x-forwarded-server');
    headers.delete('x-real-ip');
    headers.delete('forwarded');
    // Traefik's entry point drops these too: only passTLSClientCert may set them.
    headers.delete('x-forwarded-tls-client-cert');
    headers.delete('x-forwarded-tls-client-cert-info');
    headers.append('X-Forwarded-For', clientIp);
    headers.append('X-Forwarded-Proto', scheme);
    if (authority !== '') headers.append('X-Forwarded-Host', authority);
    headers.append('X-Forwarded-Port', port);
    headers.append('X-Real-Ip', clientIp);
    return;
  }
  const xff = headers.getAll('x-forwarded-for');
  headers.set('X-Forwarded-For', xff.length === 0 ? clientIp : `${xff.join(', ')}, ${clientIp}`);
  if (!headers.has('x-forwarded-proto')) headers.append('X-Forwarded-Proto', scheme);
  if (!headers.has('x-forwarded-host') && authority !== '') headers.append('X-Forwarded-Host', authority);
  if (!headers.has('x-forwarded-port')) headers.append('X-Forwarded-Port', port);
  if (!headers.has('x-real-ip')) headers.append('X-Real-Ip', clientIp);
}
