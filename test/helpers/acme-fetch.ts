/**
 * What the proxy serves over TLS while ACME works: one request on a new connection with a name as
 * SNI and Host, trusting only the CA's root, and a poll until the certificate chains to it. Before
 * issuance the proxy presents its generated default certificate, which is a result to poll on,
 * not an error.
 */
import { request } from 'node:https';
import { checkServerIdentity, type TLSSocket } from 'node:tls';
import type { Pebble } from './pebble.ts';
import type { LogLine, ProxyProcess } from './proxy-process.ts';

export interface Fetched {
  readonly status: number;
  readonly body: string;
  /** The chain verified against the trusted root and the leaf is valid for the SNI name. */
  readonly trusted: boolean;
  /** Why it is not trusted ('' when it is). */
  readonly why: string;
  readonly serial: string;
  readonly fingerprint: string;
  readonly issuer: string;
  /** `DNS:a, DNS:b` as node prints it. */
  readonly san: string;
  readonly validFrom: string;
  readonly validTo: string;
}

/** One request on a new connection to 127.0.0.1:`port` with `name` as SNI and Host. */
export function fetchTls(port: number, name: string, rootPem: string): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/',
        servername: name,
        headers: { host: name },
        ca: rootPem,
        // Verified below, so that a not-yet-ACME certificate is a result to poll on.
        rejectUnauthorized: false,
        agent: false,
      },
      (res) => {
        const socket = res.socket as TLSSocket;
        const peer = socket.getPeerCertificate();
        const identity = checkServerIdentity(name, peer);
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('error', reject);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body,
            trusted: socket.authorized && identity === undefined,
            why: socket.authorized ? String(identity?.message ?? '') : String(socket.authorizationError),
            serial: peer.serialNumber,
            fingerprint: peer.fingerprint256,
            issuer: String(peer.issuer?.CN ?? ''),
            san: peer.subjectaltname ?? '',
            validFrom: peer.valid_from,
            validTo: peer.valid_to,
          }),
        );
      },
    );
    req.setTimeout(5_000, () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Polls `fetchTls` until the proxy presents a certificate that chains to `rootPem` for `name`
 * (the TLS store is rebuilt after the ACME manager reports a new certificate); throws after `ms`
 * with what was served last.
 */
export async function untilTrusted(
  port: number,
  name: string,
  rootPem: string,
  opts: { readonly what?: string; readonly ms?: number } = {},
): Promise<Fetched> {
  const ms = opts.ms ?? 5_000;
  const what = opts.what ?? `a trusted certificate for ${name}`;
  const deadline = Date.now() + ms;
  let last: Fetched | Error | undefined;
  for (;;) {
    try {
      last = await fetchTls(port, name, rootPem);
      if (last.trusted) return last;
    } catch (e) {
      last = e as Error;
    }
    if (Date.now() > deadline) {
      const seen = last instanceof Error ? last.message : `${last?.issuer} (${last?.why})`;
      throw new Error(`timed out after ${ms} ms waiting for ${what}; last certificate: ${seen}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** An ACME log line about `name` (its `domains` field lists it). */
export const hasDomain = (l: LogLine, name: string): boolean =>
  Array.isArray(l.domains) && l.domains.includes(name);

/** For failure messages: the proxy's ACME, warning and error lines, and pebble's last lines. */
export function acmeContext(proxy: ProxyProcess | undefined, ca: Pebble | undefined): string {
  const logs = (proxy?.logs ?? [])
    .filter((l) => String(l.msg).startsWith('acme') || l.level === 'error' || l.level === 'warn')
    .map((l) => JSON.stringify(l))
    .join('\n');
  return `\nproxy logs:\n${logs}\npebble (tail):\n${(ca?.output() ?? '').split('\n').slice(-30).join('\n')}`;
}

/**
 * Waits for the proxy's ACME outcome for `name` (obtained, or the request's failure with the
 * proxy's and pebble's context), checks that it came from `resolver`, then that the certificate
 * is served for `host` by SNI, chains to `rootPem` and fronts the backend answering `backend ok`.
 */
export async function obtainedAndServed(
  p: ProxyProcess,
  ca: Pebble,
  rootPem: string,
  c: { readonly resolver: string; readonly host: string; readonly name?: string },
): Promise<Fetched> {
  const name = c.name ?? c.host;
  const line = await p
    .waitForLog(
      (l) =>
        (l.msg === 'acme certificate obtained' || l.msg === 'acme certificate request failed') &&
        hasDomain(l, name),
      60_000,
    )
    .catch((e: Error) => {
      throw new Error(`${e.message}${acmeContext(p, ca)}`);
    });
  if (line.msg !== 'acme certificate obtained')
    throw new Error(`${name}: ${String(line.error)}${acmeContext(p, ca)}`);
  if (line.resolver !== c.resolver) throw new Error(`${name} obtained by ${String(line.resolver)}`);
  const got = await untilTrusted(p.ports['websecure'] ?? 0, c.host, rootPem);
  if (got.status !== 200 || got.body !== 'backend ok' || !/Pebble Intermediate/.test(got.issuer)) {
    throw new Error(`${c.host}: ${got.status} ${got.body} from ${got.issuer}`);
  }
  return got;
}
