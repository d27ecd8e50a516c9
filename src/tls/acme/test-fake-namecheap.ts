/**
 * A test double of Namecheap's XML API (https://www.namecheap.com/support/api/methods/) for
 * `namecheap.domains.dns.getHosts` and `namecheap.domains.dns.setHosts` at `/xml.response`, and
 * of its getip service (another server, as it is another host). Every call must carry `ApiUser`,
 * `ApiKey`, `UserName` and a `ClientIp` that is the allowed address (in the query, or in a
 * form-encoded POST body); failures are answered 200 with `<ApiResponse Status="ERROR">` and
 * `<Errors><Error Number=…>`, as Namecheap answers them. setHosts replaces every host of the
 * domain with `HostName<n>`, `RecordType<n>`, `Address<n>`, `MXPref<n>`, `TTL<n>` (n from 1, no
 * gap); the TXT records it adds or drops go to the DNS back end.
 */
import { escapeXml } from './route53-xml.ts';
import { type DnsBackend, type FakeAnswer, type FakeApi, startFakeApi } from './test-fake-dns-api.ts';

export interface FakeNamecheapOptions {
  readonly apiUser: string;
  readonly apiKey: string;
  /** The address the account allows, which getip answers. */
  readonly clientIp: string;
  /** Registered domains, `sld.tld`. */
  readonly domains: readonly string[];
  readonly backend: DnsBackend;
}

export interface FakeNamecheap extends FakeApi {
  /** The getip service's URL. */
  readonly getIpUrl: string;
}

interface Host {
  Name: string;
  Type: string;
  Address: string;
  MXPref: string;
  TTL: string;
}

export async function startFakeNamecheap(opts: FakeNamecheapOptions): Promise<FakeNamecheap> {
  const hosts = new Map<string, Host[]>(
    opts.domains.map((d) => [d, [{ Name: '@', Type: 'A', Address: '192.0.2.1', MXPref: '10', TTL: '1800' }]]),
  );
  const envelope = (command: string, inner: string, ok: boolean): FakeAnswer => ({
    status: 200,
    contentType: 'text/xml',
    body: `<?xml version="1.0" encoding="utf-8"?>\n<ApiResponse Status="${ok ? 'OK' : 'ERROR'}" xmlns="http://api.namecheap.com/xml.response">\n  ${ok ? '<Errors />' : inner}\n  <RequestedCommand>${escapeXml(command)}</RequestedCommand>\n  ${ok ? inner : ''}\n  <Server>FAKE</Server>\n  <ExecutionTime>0.01</ExecutionTime>\n</ApiResponse>\n`,
  });
  const error = (command: string, n: number, text: string): FakeAnswer =>
    envelope(command, `<Errors><Error Number="${n}">${escapeXml(text)}</Error></Errors>`, false);
  const api = await startFakeApi(async (call) => {
    if (call.path !== '/xml.response') return { status: 404, body: 'not found', contentType: 'text/plain' };
    let params = call.query;
    if (call.method === 'POST') {
      if (call.headers['content-type'] !== 'application/x-www-form-urlencoded')
        return error('', 2011170, 'the POST body must be application/x-www-form-urlencoded');
      params = new URLSearchParams(call.body);
    } else if (call.method !== 'GET') return error('', 2011170, 'GET or POST only');
    const command = params.get('Command') ?? '';
    if (params.get('ApiUser') !== opts.apiUser || params.get('ApiKey') !== opts.apiKey)
      return error(command, 1011102, 'API Key is invalid or API access has not been enabled');
    if (params.get('UserName') !== opts.apiUser)
      return error(command, 1010104, 'Parameter UserName is invalid');
    if (params.get('ClientIp') !== opts.clientIp) return error(command, 1011150, 'Invalid request IP');
    const domain = `${params.get('SLD') ?? ''}.${params.get('TLD') ?? ''}`;
    const held = hosts.get(domain);
    if (held === undefined)
      return error(command, 2019166, "The domain (huh?) doesn't seem to be associated with your account.");
    if (command === 'namecheap.domains.dns.getHosts' && call.method === 'GET') {
      const list = held
        .map(
          (h, i) =>
            `<host HostId="${i + 1}" Name="${escapeXml(h.Name)}" Type="${h.Type}" Address="${escapeXml(h.Address)}" MXPref="${h.MXPref}" TTL="${h.TTL}" />`,
        )
        .join('\n      ');
      return envelope(
        command,
        `<CommandResponse Type="${command}">\n    <DomainDNSGetHostsResult Domain="${domain}" IsUsingOurDNS="true">\n      ${list}\n    </DomainDNSGetHostsResult>\n  </CommandResponse>`,
        true,
      );
    }
    if (command === 'namecheap.domains.dns.setHosts' && call.method === 'POST') {
      const next: Host[] = [];
      for (let n = 1; params.has(`HostName${n}`); n++) {
        const h = {
          Name: params.get(`HostName${n}`) ?? '',
          Type: params.get(`RecordType${n}`) ?? '',
          Address: params.get(`Address${n}`) ?? '',
          MXPref: params.get(`MXPref${n}`) ?? '',
          TTL: params.get(`TTL${n}`) ?? '',
        };
        if (h.Type === '' || h.Address === '')
          return error(command, 2015330, `RecordType${n} and Address${n} are required`);
        if (!/^\d+$/.test(h.TTL) || Number(h.TTL) < 60)
          return error(command, 2015330, `TTL${n} must be at least 60`);
        next.push(h);
      }
      for (const k of params.keys()) {
        const m = /^(?:HostName|RecordType|Address|MXPref|TTL)(\d+)$/.exec(k);
        if (m !== null && Number(m[1]) > next.length)
          return error(command, 2015330, `${k}: hosts must be numbered from 1 with no gap`);
      }
      const txt = (list: Host[]) =>
        list
          .filter((h) => h.Type === 'TXT')
          .map((h) => `${h.Name === '@' ? '' : `${h.Name}.`}${domain}.\n${h.Address}`);
      const before = txt(held);
      const after = txt(next);
      for (const r of before)
        if (!after.includes(r)) await opts.backend.remove(r.split('\n')[0]!, r.split('\n')[1]!);
      for (const r of after)
        if (!before.includes(r)) await opts.backend.add(r.split('\n')[0]!, r.split('\n')[1]!);
      hosts.set(domain, next);
      return envelope(
        command,
        `<CommandResponse Type="${command}">\n    <DomainDNSSetHostsResult Domain="${domain}" IsSuccess="true" />\n  </CommandResponse>`,
        true,
      );
    }
    return error(command, 2011170, `unknown command ${command}`);
  });
  const getIp = await startFakeApi(() => ({ status: 200, body: opts.clientIp, contentType: 'text/html' }));
  return {
    url: api.url,
    calls: api.calls,
    failNext: api.failNext,
    getIpUrl: `${getIp.url}/getip`,
    close: async () => {
      await api.close();
      await getIp.close();
    },
  };
}
