/**
 * A test double of Google's OAuth2 token endpoint and the Cloud DNS API v1
 * (https://cloud.google.com/dns/docs/reference/rest/v1): `POST /token` takes a jwt-bearer
 * assertion whose RS256 signature is checked with the service account's public key (and its
 * iss, aud, scope and times); the API wants that token as Bearer: managedZones (list by
 * dnsName, get), rrsets (list by name and type, TXT values quoted as Cloud DNS returns them),
 * changes (deletions must match the set as it is; additions must not exist yet; a change is
 * `pending` once, then `done`).
 */
import { createVerify, type KeyObject, randomUUID } from 'node:crypto';
import {
  absolute,
  type DnsBackend,
  type FakeAnswer,
  type FakeApi,
  jsonBody,
  startFakeApi,
} from './test-fake-dns-api.ts';

export interface FakeGCloudOptions {
  readonly project: string;
  readonly clientEmail: string;
  readonly publicKey: KeyObject;
  /** Managed zones: id (`name` in the API) → DNS name without the final dot. */
  readonly zones: Readonly<Record<string, string>>;
  readonly backend: DnsBackend;
}

/** The metadata server's answers (the same double serves them, under `/computeMetadata/v1/`). */
export const METADATA_SCOPES = 'https://www.googleapis.com/auth/ndev.clouddns.readwrite';

export async function startFakeGCloud(opts: FakeGCloudOptions): Promise<FakeApi & { tokens: number }> {
  const tokens = new Set<string>();
  const sets = new Map<string, { name: string; ttl: number; values: string[] }>();
  const changes = new Map<string, number>();
  let url = '';
  let issued = 0;
  const fail = (code: number, message: string): FakeAnswer => ({
    status: code,
    body: { error: { code, message, errors: [{ message, domain: 'global', reason: 'invalid' }] } },
  });
  const api = await startFakeApi(async (call) => {
    if (call.path.startsWith('/computeMetadata/v1/')) {
      // The GCE metadata server: Metadata-Flavor: Google or 403, plain text for values.
      if (call.headers['metadata-flavor'] !== 'Google')
        return { status: 403, body: 'Missing Metadata-Flavor:Google header.', contentType: 'text/html' };
      const what = call.path.slice('/computeMetadata/v1/'.length);
      if (what === 'project/project-id' && call.method === 'GET')
        return { status: 200, body: opts.project, contentType: 'application/text' };
      if (what === 'instance/service-accounts/default/token' && call.method === 'GET') {
        if (call.query.get('scopes') !== METADATA_SCOPES)
          return {
            status: 400,
            body: 'this double grants the Cloud DNS scope only',
            contentType: 'text/plain',
          };
        const token = `ya29.metadata-${randomUUID()}`;
        tokens.add(token);
        issued++;
        return { status: 200, body: { access_token: token, expires_in: 3599, token_type: 'Bearer' } };
      }
      return { status: 404, body: 'Not Found', contentType: 'text/plain' };
    }
    if (call.path === '/token') {
      const form = new URLSearchParams(call.body);
      if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer')
        return { status: 400, body: { error: 'unsupported_grant_type' } };
      const [h = '', c = '', sig = ''] = (form.get('assertion') ?? '').split('.');
      const ok = createVerify('RSA-SHA256')
        .update(`${h}.${c}`)
        .verify(opts.publicKey, Buffer.from(sig, 'base64url'));
      const claims = JSON.parse(Buffer.from(c, 'base64url').toString()) as Record<string, unknown>;
      const now = Date.now() / 1000;
      if (
        !ok ||
        JSON.parse(Buffer.from(h, 'base64url').toString()).alg !== 'RS256' ||
        claims['iss'] !== opts.clientEmail ||
        claims['aud'] !== `${url}/token` ||
        claims['scope'] !== 'https://www.googleapis.com/auth/ndev.clouddns.readwrite' ||
        !(Number(claims['iat']) <= now && Number(claims['exp']) > now)
      )
        return { status: 400, body: { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' } };
      const token = `ya29.${randomUUID()}`;
      tokens.add(token);
      issued++;
      return { status: 200, body: { access_token: token, expires_in: 3599, token_type: 'Bearer' } };
    }
    const bearer = /^Bearer (.+)$/.exec(String(call.headers.authorization ?? ''))?.[1];
    if (bearer === undefined || !tokens.has(bearer))
      return fail(401, 'Request had invalid authentication credentials.');
    const parts = call.path.split('/').filter((p) => p !== '');
    if (
      parts[0] !== 'dns' ||
      parts[1] !== 'v1' ||
      parts[2] !== 'projects' ||
      parts[3] !== opts.project ||
      parts[4] !== 'managedZones'
    )
      return fail(404, 'Not Found');
    const zoneId = parts[5];
    if (zoneId === undefined && call.method === 'GET') {
      const dnsName = call.query.get('dnsName') ?? '';
      const managedZones = Object.entries(opts.zones)
        .filter(([, n]) => absolute(n) === dnsName)
        .map(([name, n]) => ({ kind: 'dns#managedZone', name, dnsName: absolute(n), visibility: 'public' }));
      return { status: 200, body: { kind: 'dns#managedZonesListResponse', managedZones } };
    }
    const zone = zoneId === undefined ? undefined : opts.zones[zoneId];
    if (zone === undefined)
      return fail(404, `The 'parameters.managedZone' resource named '${zoneId}' does not exist.`);
    if (parts.length === 6 && call.method === 'GET')
      return { status: 200, body: { kind: 'dns#managedZone', name: zoneId, dnsName: absolute(zone) } };
    if (parts[6] === 'rrsets' && call.method === 'GET') {
      const name = call.query.get('name') ?? '';
      const s = sets.get(absolute(name));
      const rrsets =
        s === undefined || call.query.get('type') !== 'TXT'
          ? []
          : [
              {
                kind: 'dns#resourceRecordSet',
                name: s.name,
                type: 'TXT',
                ttl: s.ttl,
                rrdatas: s.values.map((v) => JSON.stringify(v)),
              },
            ];
      return { status: 200, body: { kind: 'dns#resourceRecordSetsListResponse', rrsets } };
    }
    if (parts[6] === 'changes' && parts.length === 8 && call.method === 'GET') {
      if (!changes.has(parts[7] ?? '')) return fail(404, 'change not found');
      return { status: 200, body: { kind: 'dns#change', id: parts[7], status: 'done' } };
    }
    if (parts[6] === 'changes' && parts.length === 7 && call.method === 'POST') {
      const body = jsonBody(call);
      if (typeof body === 'string') return fail(400, body);
      const text = (v: string): string => (v.startsWith('"') ? (JSON.parse(v) as string) : v);
      const rrsets = (k: string) => (Array.isArray(body[k]) ? (body[k] as Record<string, unknown>[]) : []);
      for (const d of rrsets('deletions')) {
        const s = sets.get(absolute(String(d['name'])));
        const want = (d['rrdatas'] as string[]).map(text).sort().join(',');
        if (s === undefined || d['type'] !== 'TXT' || s.values.slice().sort().join(',') !== want)
          return fail(412, `Precondition not met for 'entity.change.deletions[${d['name']}][TXT]'`);
      }
      for (const a of rrsets('additions')) {
        const name = absolute(String(a['name']));
        const stays = rrsets('deletions').some((d) => absolute(String(d['name'])) === name);
        if (sets.has(name) && !stays)
          return fail(
            409,
            `The resource 'entity.change.additions[${a['name']}][TXT]' named '${a['name']} (TXT)' already exists`,
          );
        if (!name.endsWith(`.${absolute(zone)}`) || typeof a['ttl'] !== 'number' || a['type'] !== 'TXT')
          return fail(400, 'Invalid value for entity.change.additions');
      }
      for (const d of rrsets('deletions')) {
        const name = absolute(String(d['name']));
        for (const v of sets.get(name)?.values ?? []) await opts.backend.remove(name, v);
        sets.delete(name);
      }
      for (const a of rrsets('additions')) {
        const name = absolute(String(a['name']));
        const values = (a['rrdatas'] as string[]).map(text);
        sets.set(name, { name, ttl: Number(a['ttl']), values });
        for (const v of values) await opts.backend.add(name, v);
      }
      const id = String(changes.size + 1);
      changes.set(id, 0);
      return { status: 200, body: { kind: 'dns#change', id, status: 'pending', ...body } };
    }
    return fail(404, 'Not Found');
  });
  url = api.url;
  return Object.defineProperty(api, 'tokens', { get: () => issued }) as FakeApi & { tokens: number };
}
