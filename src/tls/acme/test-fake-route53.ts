/**
 * A test double of Route 53's REST API (2013-04-01), after the API reference
 * (https://docs.aws.amazon.com/Route53/latest/APIReference/) and lego's use of it:
 * ListHostedZonesByName, ListResourceRecordSets (from a name on, as Route 53 lists), and
 * ChangeResourceRecordSets (UPSERT, and DELETE, which must name the set exactly as it is), whose
 * change GetChange reports PENDING once, then INSYNC. Every request must carry a valid AWS
 * Signature Version 4 for service `route53` in us-east-1: the signature is computed again from
 * the request as it arrived (path, query, the signed headers, the body's hash), so a request that
 * was changed after signing, or signed over other bytes, is refused with SignatureDoesNotMatch.
 */
import { randomUUID } from 'node:crypto';
import { sha256Hex, sigV4Signature } from '../../core/aws-sigv4.ts';
import { elements, escapeXml, ROUTE53_XMLNS, text } from './route53-xml.ts';
import {
  absolute,
  type DnsBackend,
  type FakeAnswer,
  type FakeApi,
  type FakeCall,
  startFakeApi,
} from './test-fake-dns-api.ts';

export interface FakeRoute53Options {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Required (and signed) when set. */
  readonly sessionToken?: string;
  readonly zones: ReadonlyArray<{
    readonly id: string;
    readonly name: string;
    readonly privateZone?: boolean;
  }>;
  readonly backend: DnsBackend;
}

interface RecordSet {
  readonly zoneId: string;
  readonly name: string;
  readonly ttl: number;
  readonly values: string[];
}

const XML = 'text/xml';

export async function startFakeRoute53(opts: FakeRoute53Options): Promise<FakeApi> {
  const sets = new Map<string, RecordSet>();
  const changes = new Map<string, { polls: number }>();
  const error = (status: number, code: string, message: string): FakeAnswer => ({
    status,
    contentType: XML,
    body: `<?xml version="1.0"?>\n<ErrorResponse xmlns="${ROUTE53_XMLNS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
  });
  const xml = (root: string, inner: string): FakeAnswer => ({
    status: 200,
    contentType: XML,
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${ROUTE53_XMLNS}">${inner}</${root}>`,
  });

  const unsigned = (call: FakeCall): FakeAnswer | undefined => {
    const why = sigV4Problem(call, { ...opts, region: 'us-east-1', service: 'route53' });
    return why === undefined ? undefined : error(403, why.code, why.message);
  };

  const recordSetXml = (s: RecordSet): string =>
    `<ResourceRecordSet><Name>${escapeXml(s.name)}</Name><Type>TXT</Type><TTL>${s.ttl}</TTL><ResourceRecords>${s.values.map((v) => `<ResourceRecord><Value>${escapeXml(v)}</Value></ResourceRecord>`).join('')}</ResourceRecords></ResourceRecordSet>`;

  return startFakeApi(async (call) => {
    const denied = unsigned(call);
    if (denied !== undefined) return denied;
    const parts = call.path.split('/').filter((p) => p !== '');
    if (parts[0] !== '2013-04-01') return error(404, 'UnknownOperation', 'Unknown operation');
    if (call.method === 'GET' && parts[1] === 'hostedzonesbyname' && parts.length === 2) {
      const from = absolute(call.query.get('dnsname') ?? '');
      const zones = [...opts.zones]
        .sort((a, b) => (a.name < b.name ? -1 : 1))
        .filter((z) => absolute(z.name) >= from);
      const list = zones
        .map(
          (z) =>
            `<HostedZone><Id>/hostedzone/${z.id}</Id><Name>${escapeXml(absolute(z.name))}</Name><CallerReference>${z.id}</CallerReference><Config><PrivateZone>${z.privateZone === true}</PrivateZone></Config><ResourceRecordSetCount>2</ResourceRecordSetCount></HostedZone>`,
        )
        .join('');
      return xml(
        'ListHostedZonesByNameResponse',
        `<HostedZones>${list}</HostedZones><DNSName>${escapeXml(from)}</DNSName><IsTruncated>false</IsTruncated><MaxItems>100</MaxItems>`,
      );
    }
    if (call.method === 'GET' && parts[1] === 'change' && parts.length === 3) {
      const c = changes.get(parts[2] ?? '');
      if (c === undefined)
        return error(404, 'NoSuchChange', `A change with the specified change ID does not exist.`);
      c.polls++;
      return xml(
        'GetChangeResponse',
        `<ChangeInfo><Id>/change/${parts[2]}</Id><Status>${c.polls > 1 ? 'INSYNC' : 'PENDING'}</Status><SubmittedAt>2026-01-01T00:00:00Z</SubmittedAt></ChangeInfo>`,
      );
    }
    if (parts[1] !== 'hostedzone' || parts[3] !== 'rrset' || parts.length !== 4)
      return error(404, 'UnknownOperation', 'Unknown operation');
    const zoneId = parts[2] ?? '';
    const zone = opts.zones.find((z) => z.id === zoneId);
    if (zone === undefined) return error(404, 'NoSuchHostedZone', `No hosted zone found with ID: ${zoneId}`);
    if (call.method === 'GET' && !call.path.endsWith('/')) {
      const from = absolute(call.query.get('name') ?? '');
      const listed = [...sets.values()]
        .filter((s) => s.zoneId === zoneId && s.name >= from)
        .sort((a, b) => (a.name < b.name ? -1 : 1));
      return xml(
        'ListResourceRecordSetsResponse',
        `<ResourceRecordSets>${listed.map(recordSetXml).join('')}</ResourceRecordSets><IsTruncated>false</IsTruncated><MaxItems>300</MaxItems>`,
      );
    }
    if (call.method === 'POST' && call.path.endsWith('/rrset/')) {
      if (!call.body.includes(`<ChangeResourceRecordSetsRequest xmlns="${ROUTE53_XMLNS}">`)) {
        return error(
          400,
          'InvalidInput',
          'Expected a ChangeResourceRecordSetsRequest in the 2013-04-01 namespace',
        );
      }
      const change = elements(call.body, 'Change');
      if (change.length !== 1)
        return error(400, 'InvalidChangeBatch', 'this double takes one change per batch');
      const c = change[0] ?? '';
      const action = text(c, 'Action');
      const name = absolute(text(c, 'Name') ?? '');
      const ttl = Number(text(c, 'TTL'));
      const values = elements(c, 'Value').map((v) => text(`<v>${v}</v>`, 'v') ?? '');
      if (text(c, 'Type') !== 'TXT' || !Number.isInteger(ttl) || values.length === 0) {
        return error(400, 'InvalidChangeBatch', 'A TXT set needs a TTL and at least one value');
      }
      if (!name.endsWith(`.${absolute(zone.name)}`))
        return error(
          400,
          'InvalidChangeBatch',
          `RRSet with DNS name ${name} is not permitted in zone ${zone.name}`,
        );
      if (values.some((v) => !/^".*"$/.test(v)))
        return error(
          400,
          'InvalidChangeBatch',
          'Invalid Resource Record: FATAL problem: InvalidCharacterString (Value should be enclosed in quotation marks)',
        );
      const key = `${zoneId} ${name}`;
      const old = sets.get(key);
      if (action === 'DELETE') {
        if (old === undefined || old.ttl !== ttl || old.values.join() !== values.join()) {
          return error(
            400,
            'InvalidChangeBatch',
            `Tried to delete resource record set [name='${name}', type='TXT'] but the values provided do not match the current values`,
          );
        }
        sets.delete(key);
      } else if (action === 'UPSERT') {
        sets.set(key, { zoneId, name, ttl, values });
      } else {
        return error(400, 'InvalidChangeBatch', `Unsupported action ${action}`);
      }
      const unquote = (v: string): string => v.slice(1, -1);
      for (const v of old?.values ?? [])
        if (action === 'DELETE' || !values.includes(v)) await opts.backend.remove(name, unquote(v));
      if (action === 'UPSERT')
        for (const v of values)
          if (!(old?.values ?? []).includes(v)) await opts.backend.add(name, unquote(v));
      const id = `C${randomUUID().replace(/-/g, '').slice(0, 12).toUpperCase()}`;
      changes.set(id, { polls: 0 });
      return xml(
        'ChangeResourceRecordSetsResponse',
        `<ChangeInfo><Id>/change/${id}</Id><Status>PENDING</Status><SubmittedAt>2026-01-01T00:00:00Z</SubmittedAt><Comment>${escapeXml(text(call.body, 'Comment') ?? '')}</Comment></ChangeInfo>`,
      );
    }
    return error(405, 'MethodNotAllowed', 'Method not allowed');
  });
}

/**
 * Why a request's AWS Signature Version 4 does not hold for these credentials, region and
 * service (AWS's error code and message), or undefined: the signature is computed again from the
 * request as it arrived. Shared by the Route 53 and STS doubles.
 */
export function sigV4Problem(
  call: FakeCall,
  want: {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken?: string;
    readonly region: string;
    readonly service: string;
  },
): { code: string; message: string } | undefined {
  const error = (_status: number, code: string, message: string) => ({ code, message });
  const opts = want;
  const auth = String(call.headers.authorization ?? '');
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(
      auth,
    );
  if (m === null)
    return error(
      403,
      'IncompleteSignature',
      'Authorization header requires Credential, SignedHeaders and Signature',
    );
  const [, akid, date, region, service, signedList = '', signature] = m;
  if (akid !== opts.accessKeyId)
    return error(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');
  if (region !== want.region || service !== want.service)
    return error(
      403,
      'SignatureDoesNotMatch',
      `Credential should be scoped to a valid region and service, not ${region}/${service}`,
    );
  const amzDate = String(call.headers['x-amz-date'] ?? '');
  if (!amzDate.startsWith(date ?? ''))
    return error(403, 'SignatureDoesNotMatch', 'Date in Credential scope does not match x-amz-date');
  const at = Date.parse(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
  );
  if (!(Math.abs(Date.now() - at) <= 15 * 60_000))
    return error(403, 'SignatureDoesNotMatch', 'Signature expired or not yet valid');
  const signed = signedList.split(';');
  for (const must of [
    'host',
    'x-amz-date',
    ...(opts.sessionToken === undefined ? [] : ['x-amz-security-token']),
  ]) {
    if (!signed.includes(must)) return error(403, 'SignatureDoesNotMatch', `${must} must be signed`);
  }
  if (opts.sessionToken !== undefined && call.headers['x-amz-security-token'] !== opts.sessionToken) {
    return error(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');
  }
  const headers: Record<string, string> = {};
  for (const h of signed) headers[h] = String(call.headers[h] ?? '');
  const expected = sigV4Signature({
    secretAccessKey: opts.secretAccessKey,
    method: call.method,
    path: call.path,
    query: [...call.query],
    headers,
    signedHeaders: signed,
    payloadHash: sha256Hex(call.body),
    amzDate,
    region: want.region,
    service: want.service,
  });
  if (expected !== signature) {
    return error(
      403,
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided.',
    );
  }
  return undefined;
}
