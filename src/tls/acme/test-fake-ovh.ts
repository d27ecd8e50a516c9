/**
 * A test double of OVHcloud's API v1 DNS zone records, after its documentation
 * (https://eu.api.ovh.com/console/?section=%2Fdomain) and go-ovh: `GET /1.0/auth/time` (the API's
 * clock, which here runs ahead of ours), signed requests (`X-Ovh-*` headers, the `$1$` SHA-1
 * signature over secret, consumer key, method, full URL, body and timestamp; a timestamp more
 * than 5 minutes off is refused), `POST /domain/zone/<zone>/record`, `DELETE …/record/<id>`, and
 * `POST /domain/zone/<zone>/refresh`, which is what publishes changes: a record reaches the DNS
 * back end only at the next refresh, as on OVH's name servers.
 */
import { ovhSignature } from './dns01-ovh.ts';
import {
  type DnsBackend,
  type FakeAnswer,
  type FakeApi,
  type FakeCall,
  jsonBody,
  shapeProblems,
  startFakeApi,
} from './test-fake-dns-api.ts';

export interface FakeOvhOptions {
  readonly applicationKey: string;
  readonly applicationSecret: string;
  readonly consumerKey: string;
  /** An OAuth2 access token accepted as `Authorization: Bearer`. */
  readonly accessToken?: string;
  readonly zones: readonly string[];
  /** Seconds the API's clock is ahead of ours. */
  readonly clockOffsetS?: number;
  readonly backend: DnsBackend;
}

interface OvhRecord {
  readonly zone: string;
  readonly subDomain: string;
  readonly target: string;
}

export async function startFakeOvh(opts: FakeOvhOptions): Promise<FakeApi> {
  const offset = opts.clockOffsetS ?? 0;
  const serverNow = (): number => Math.floor(Date.now() / 1000) + offset;
  const records = new Map<number, OvhRecord>();
  /** What the name servers serve: updated by a refresh only. */
  const published = new Map<number, OvhRecord>();
  let nextId = 5088031100;
  const fail = (status: number, cls: string, message: string): FakeAnswer => ({
    status,
    body: { class: cls, message },
  });
  const authError = (call: FakeCall): FakeAnswer | undefined => {
    if (opts.accessToken !== undefined && call.headers.authorization === `Bearer ${opts.accessToken}`)
      return undefined;
    const h = call.headers;
    if (h['x-ovh-application'] !== opts.applicationKey)
      return fail(403, 'Client::Forbidden', 'Invalid application key');
    if (h['x-ovh-consumer'] !== opts.consumerKey) return fail(403, 'Client::Forbidden', 'Invalid credential');
    const ts = String(h['x-ovh-timestamp'] ?? '');
    if (!/^\d+$/.test(ts) || Math.abs(Number(ts) - serverNow()) > 300) {
      return fail(400, 'Client::BadRequest', 'Query out of time');
    }
    const fullUrl = `http://${h.host}${call.path}${call.query.size > 0 ? `?${call.query}` : ''}`;
    const expected = ovhSignature(
      opts.applicationSecret,
      opts.consumerKey,
      call.method,
      fullUrl,
      call.body,
      ts,
    );
    if (h['x-ovh-signature'] !== expected) return fail(400, 'Client::BadRequest', 'Invalid signature');
    return undefined;
  };
  return startFakeApi(async (call) => {
    if (call.method === 'GET' && call.path === '/1.0/auth/time')
      return { status: 200, body: String(serverNow()) };
    const denied = authError(call);
    if (denied !== undefined) return denied;
    const m = /^\/1\.0\/domain\/zone\/([^/]+)\/(record|refresh)(?:\/(\d+))?$/.exec(call.path);
    if (m === null)
      return fail(404, 'Client::NotFound', `The requested object (${call.path}) does not exist`);
    const zone = m[1] ?? '';
    if (!opts.zones.includes(zone)) return fail(404, 'Client::NotFound', `This service does not exist`);
    if (m[2] === 'refresh' && call.method === 'POST' && m[3] === undefined) {
      if (call.body !== '') return fail(400, 'Client::BadRequest', 'refresh takes no body');
      for (const [id, r] of published) {
        if (r.zone === zone && !records.has(id)) {
          published.delete(id);
          await opts.backend.remove(`${r.subDomain}.${zone}.`, r.target);
        }
      }
      for (const [id, r] of records) {
        if (r.zone === zone && !published.has(id)) {
          published.set(id, r);
          await opts.backend.add(`${r.subDomain}.${zone}.`, r.target);
        }
      }
      return { status: 200, body: 'null' };
    }
    if (m[2] === 'record' && call.method === 'POST' && m[3] === undefined) {
      const body = jsonBody(call);
      if (typeof body === 'string') return fail(400, 'Client::BadRequest', body);
      const wrong = shapeProblems(
        body,
        { fieldType: 'string', target: 'string' },
        { subDomain: 'string', ttl: 'number' },
      );
      if (wrong !== undefined) return fail(400, 'Client::BadRequest', wrong);
      const id = nextId++;
      const r = { zone, subDomain: String(body['subDomain'] ?? ''), target: String(body['target']) };
      records.set(id, r);
      return {
        status: 200,
        body: {
          id,
          zone,
          subDomain: r.subDomain,
          fieldType: body['fieldType'],
          target: r.target,
          ttl: body['ttl'] ?? 0,
        },
      };
    }
    if (m[2] === 'record' && call.method === 'DELETE' && m[3] !== undefined) {
      const id = Number(m[3]);
      if (records.get(id)?.zone !== zone) return fail(404, 'Client::NotFound', 'This record does not exist');
      records.delete(id);
      return { status: 200, body: 'null' };
    }
    return fail(405, 'Client::MethodNotAllowed', 'Method not allowed');
  });
}
