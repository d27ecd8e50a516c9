/**
 * A test double of Hurricane Electric's dynamic DNS endpoint (https://dns.he.net/docs.html):
 * `POST /nic/update` with a form of `hostname`, `password` (the dynamic record's key) and `txt`;
 * the answer is text: `good <value>`, `nochg <value>` when it is the same, `badauth` for a wrong
 * key, `nohost` for a name that is not a dynamic record. One value per record: an update replaces
 * it (`.` is what lego writes at cleanup).
 */
import { type DnsBackend, type FakeApi, startFakeApi } from './test-fake-dns-api.ts';

export interface FakeHurricaneOptions {
  /** Record name (without the final dot) → its key. */
  readonly records: Readonly<Record<string, string>>;
  readonly backend: DnsBackend;
}

export async function startFakeHurricane(opts: FakeHurricaneOptions): Promise<FakeApi> {
  const values = new Map<string, string>();
  const text = (body: string) => ({ status: 200, body, contentType: 'text/plain' });
  return startFakeApi(async (call) => {
    if (call.method !== 'POST' || call.path !== '/nic/update')
      return { status: 404, body: 'not found', contentType: 'text/plain' };
    if (call.headers['content-type'] !== 'application/x-www-form-urlencoded') return text('badagent');
    const form = new URLSearchParams(call.body);
    const hostname = form.get('hostname') ?? '';
    const key = opts.records[hostname];
    if (key === undefined) return text('nohost');
    if (form.get('password') !== key) return text('badauth');
    const txt = form.get('txt') ?? '';
    const old = values.get(hostname);
    if (old === txt) return text(`nochg ${txt}`);
    if (old !== undefined && old !== '.') await opts.backend.remove(`${hostname}.`, old);
    values.set(hostname, txt);
    if (txt !== '.') await opts.backend.add(`${hostname}.`, txt);
    return text(`good ${txt}`);
  });
}
