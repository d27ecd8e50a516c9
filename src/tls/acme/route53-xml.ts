/**
 * The little XML that Route 53's REST API (version 2013-04-01) speaks: the ChangeResourceRecordSets
 * request body, and the elements the provider reads from answers (hosted zones, record sets,
 * change status, errors). Answers are read leniently, element by element, never evaluated: no
 * entities beyond XML's five and character references, no DTD.
 */

export const ROUTE53_XMLNS = 'https://route53.amazonaws.com/doc/2013-04-01/';

export interface Route53RecordSet {
  readonly name: string;
  readonly type: string;
  readonly ttl: number | undefined;
  /** As stored: a TXT value comes with its quotes (`"abc"`). */
  readonly values: string[];
}

export interface Route53HostedZone {
  /** `/hostedzone/Z123…` as listed. */
  readonly id: string;
  /** Absolute, with its final dot. */
  readonly name: string;
  readonly privateZone: boolean;
}

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function unescapeXml(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|lt|gt|amp|quot|apos);/g, (_, e: string) => {
    if (e === 'lt') return '<';
    if (e === 'gt') return '>';
    if (e === 'amp') return '&';
    if (e === 'quot') return '"';
    if (e === 'apos') return "'";
    const code = e.startsWith('#x') ? Number.parseInt(e.slice(2), 16) : Number.parseInt(e.slice(1), 10);
    return String.fromCodePoint(code);
  });
}

/** The inner text of every `<tag>…</tag>` (not nested in itself), in document order. */
export function elements(xml: string, tag: string): string[] {
  const out: string[] = [];
  const re = new RegExp(`<${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</${tag}>`, 'g');
  for (const m of xml.matchAll(re)) out.push(m[1] ?? '');
  return out;
}

/** The unescaped text of the first `<tag>`, or undefined. */
export function text(xml: string, tag: string): string | undefined {
  const e = elements(xml, tag)[0];
  return e === undefined ? undefined : unescapeXml(e.trim());
}

export function changeBatchXml(action: 'UPSERT' | 'DELETE', set: Route53RecordSet, comment: string): string {
  const records = set.values
    .map((v) => `<ResourceRecord><Value>${escapeXml(v)}</Value></ResourceRecord>`)
    .join('');
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<ChangeResourceRecordSetsRequest xmlns="${ROUTE53_XMLNS}">` +
    `<ChangeBatch><Comment>${escapeXml(comment)}</Comment><Changes><Change><Action>${action}</Action>` +
    `<ResourceRecordSet><Name>${escapeXml(set.name)}</Name><Type>${set.type}</Type>` +
    (set.ttl === undefined ? '' : `<TTL>${set.ttl}</TTL>`) +
    `<ResourceRecords>${records}</ResourceRecords></ResourceRecordSet></Change></Changes></ChangeBatch>` +
    '</ChangeResourceRecordSetsRequest>'
  );
}

export function parseHostedZones(xml: string): Route53HostedZone[] {
  return elements(xml, 'HostedZone').map((z) => ({
    id: text(z, 'Id') ?? '',
    name: text(z, 'Name') ?? '',
    privateZone: text(z, 'PrivateZone') === 'true',
  }));
}

export function parseRecordSets(xml: string): Route53RecordSet[] {
  return elements(xml, 'ResourceRecordSet').map((r) => {
    const ttl = text(r, 'TTL');
    return {
      name: text(r, 'Name') ?? '',
      type: text(r, 'Type') ?? '',
      ttl: ttl === undefined ? undefined : Number(ttl),
      values: elements(r, 'ResourceRecord').map((rr) => text(rr, 'Value') ?? ''),
    };
  });
}

/** `Code: Message` of an ErrorResponse, or undefined. */
export function route53Error(xml: string): string | undefined {
  const code = text(xml, 'Code');
  const message = text(xml, 'Message');
  if (code === undefined && message === undefined) return undefined;
  return `${code ?? 'Error'}: ${message ?? ''}`;
}
