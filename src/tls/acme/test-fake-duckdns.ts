/**
 * A test double of DuckDNS's update URL (https://www.duckdns.org/spec.jsp): `GET
 * /update?clear=…&domains=…&token=…&txt=…` (the order lego's url.Values.Encode gives) answers the
 * body `OK` or `KO`. DuckDNS keeps one TXT value per domain, served for it and every name below;
 * the double publishes it at `_acme-challenge.<domain>.`, the name a certificate for the domain
 * is validated at. `clear=true` removes it.
 */
import { type DnsBackend, type FakeApi, startFakeApi } from './test-fake-dns-api.ts';

export interface FakeDuckDnsOptions {
  readonly token: string;
  /** The account's domains, `<name>.duckdns.org`. */
  readonly domains: readonly string[];
  readonly backend: DnsBackend;
}

export async function startFakeDuckDns(opts: FakeDuckDnsOptions): Promise<FakeApi> {
  const txt = new Map<string, string>();
  const ko = { status: 200, body: 'KO', contentType: 'text/plain' };
  return startFakeApi(async (call) => {
    if (call.method !== 'GET' || call.path !== '/update')
      return { status: 404, body: 'not found', contentType: 'text/plain' };
    if ([...call.query.keys()].join(',') !== 'clear,domains,token,txt') return ko;
    if (call.query.get('token') !== opts.token) return ko;
    const domain = call.query.get('domains') ?? '';
    if (!opts.domains.includes(domain)) return ko;
    const name = `_acme-challenge.${domain}.`;
    const old = txt.get(domain);
    if (old !== undefined) await opts.backend.remove(name, old);
    txt.delete(domain);
    if (call.query.get('clear') === 'true') return { status: 200, body: 'OK', contentType: 'text/plain' };
    if (call.query.get('clear') !== 'false') return ko;
    const value = call.query.get('txt') ?? '';
    txt.set(domain, value);
    await opts.backend.add(name, value);
    return { status: 200, body: 'OK', contentType: 'text/plain' };
  });
}
