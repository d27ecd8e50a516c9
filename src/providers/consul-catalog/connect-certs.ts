import { normalizeName } from '../docker/docker-config.ts';

/**
 * Consul Connect as Traefik's consulcatalog provider does it (connect_tls.go, config.go): the
 * proxy is a Connect client with the leaf certificate of its own service (`serviceName`) and
 * trusts the Connect CA roots; each connect-enabled service gets a serversTransport of its own
 * that presents the leaf and accepts only the service's SPIFFE ID.
 */

/** The Connect roots and the proxy's leaf, as the agent last answered. */
export interface ConnectCerts {
  /** PEM certificates of the CA roots (`/v1/agent/connect/ca/roots` → `Roots[].RootCert`). */
  readonly roots: readonly string[];
  /** `TrustDomain` of the roots answer (`<cluster id>.consul`); '' when the agent gave none. */
  readonly trustDomain: string;
  /** `/v1/agent/connect/ca/leaf/<serviceName>` → `CertPEM`, `PrivateKeyPEM`. */
  readonly leafCert: string;
  readonly leafKey: string;
}

/** The parts of a roots answer that matter (Consul's api.CARootList). */
export interface RootsAnswer {
  readonly roots: readonly string[];
  readonly trustDomain: string;
}

/** The proxy's leaf (Consul's api.LeafCert). */
export interface LeafAnswer {
  readonly cert: string;
  readonly key: string;
}

function obj(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function text(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** Reads `/v1/agent/connect/ca/roots`: every root's PEM, in the agent's order. */
export function rootsFrom(json: unknown): RootsAnswer {
  const o = obj(json);
  const list = Array.isArray(o['Roots']) ? (o['Roots'] as unknown[]) : [];
  return {
    roots: list.map((r) => text(obj(r)['RootCert'])).filter((pem) => pem !== ''),
    trustDomain: text(o['TrustDomain']),
  };
}

/** Reads `/v1/agent/connect/ca/leaf/<service>`. */
export function leafFrom(json: unknown): LeafAnswer {
  const o = obj(json);
  return { cert: text(o['CertPEM']), key: text(o['PrivateKeyPEM']) };
}

/** Traefik's connectCert.isReady: at least one root, and a leaf with its key. */
export function connectCerts(
  roots: RootsAnswer | undefined,
  leaf: LeafAnswer | undefined,
): ConnectCerts | undefined {
  if (roots === undefined || leaf === undefined) return undefined;
  if (roots.roots.length === 0 || leaf.cert === '' || leaf.key === '') return undefined;
  return { roots: roots.roots, trustDomain: roots.trustDomain, leafCert: leaf.cert, leafKey: leaf.key };
}

/** Where a Connect instance lives: its Consul namespace (`default` without Enterprise) and datacenter. */
export interface ConnectPlace {
  readonly namespace: string;
  readonly datacenter: string;
  /** The Consul service name (not normalised: it is part of the identity). */
  readonly name: string;
}

/** Traefik's itemServersTransportKey: `tls-<ns>-<dc>-<name>`, normalised. */
export function connectTransportName(p: ConnectPlace): string {
  return normalizeName(`tls-${p.namespace}-${p.datacenter}-${p.name}`);
}

/**
 * The service's SPIFFE ID, as Consul writes it in the leaf of the service (and its sidecar).
 * Traefik leaves the trust domain empty; the check ignores it either way (peer-cert-uri.ts), so
 * it is written out here only to say which cluster the roots came from.
 */
export function spiffeId(trustDomain: string, p: ConnectPlace): string {
  return `spiffe://${trustDomain}/ns/${p.namespace}/dc/${p.datacenter}/svc/${p.name}`;
}

/**
 * Traefik's connectCert.serversTransport: `serverName` `<ns>-<dc>-<name>` (no certificate names
 * it, so the hostname check is off: insecureSkipVerify), the Connect roots as rootCAs, the leaf as
 * the client certificate, and the service's SPIFFE ID as peerCertURI (the chain is still checked).
 */
export function connectTransport(certs: ConnectCerts, p: ConnectPlace): Record<string, unknown> {
  return {
    serverName: `${p.namespace}-${p.datacenter}-${p.name}`,
    insecureSkipVerify: true,
    rootCAs: [...certs.roots],
    certificates: [{ certFile: certs.leafCert, keyFile: certs.leafKey }],
    peerCertURI: spiffeId(certs.trustDomain, p),
  };
}

/**
 * Traefik's connectCert.tcpServersTransport: the same TLS settings under `tls`, for the TCP
 * servers of a Connect service. (Traefik builds that struct in code, without SetDefaults, so its
 * dial timeout and termination delay are 0 there; ours keeps the TCP transports' defaults.)
 */
export function connectTcpTransport(certs: ConnectCerts, p: ConnectPlace): Record<string, unknown> {
  return { tls: connectTransport(certs, p) };
}
