/**
 * XML-RPC (http://xmlrpc.com/spec.md) as the DNS providers that speak it need it (INWX's
 * DomRobot through kolo/xmlrpc, Gandi's v4 API through encoding/xml in lego): a `<methodCall>`,
 * and the `<methodResponse>`'s value (or its `<fault>`) back as plain values. Strings,
 * integers, booleans, doubles, arrays and structs; nothing else is sent.
 */
import { escapeXml, unescapeXml } from './route53-xml.ts';

export type XmlRpcValue = string | number | boolean | null | XmlRpcValue[] | { [key: string]: XmlRpcValue };

/** A `<methodCall>` with `params` as its one struct parameter, members in key order (as given). */
export function xmlRpcCall(
  method: string,
  params: Readonly<Record<string, XmlRpcValue>> | undefined,
): string {
  return xmlRpcCallOf(method, params === undefined ? [] : [params]);
}

/**
 * A `<methodCall>` of these parameters. `bare`: the `<param>`s directly in `<methodCall>`,
 * without `<params>` (how lego's gandi client's encoding/xml types write them).
 */
export function xmlRpcCallOf(method: string, params: readonly XmlRpcValue[], bare = false): string {
  const list = params.map((p) => `<param>${encodeValue(p)}</param>`).join('');
  return `<?xml version="1.0" encoding="UTF-8"?><methodCall><methodName>${escapeXml(method)}</methodName>${bare ? list : `<params>${list}</params>`}</methodCall>`;
}

function encodeValue(v: XmlRpcValue): string {
  if (v === null) return '<value><nil/></value>';
  if (typeof v === 'string') return `<value><string>${escapeXml(v)}</string></value>`;
  if (typeof v === 'boolean') return `<value><boolean>${v ? 1 : 0}</boolean></value>`;
  if (typeof v === 'number')
    return Number.isInteger(v) ? `<value><int>${v}</int></value>` : `<value><double>${v}</double></value>`;
  if (Array.isArray(v)) return `<value><array><data>${v.map(encodeValue).join('')}</data></array></value>`;
  const members = Object.entries(v)
    .map(([k, m]) => `<member><name>${escapeXml(k)}</name>${encodeValue(m)}</member>`)
    .join('');
  return `<value><struct>${members}</struct></value>`;
}

export class XmlRpcFault extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

/** The response's value; a `<fault>` is thrown as an XmlRpcFault; malformed XML is an Error. */
export function parseXmlRpcResponse(xml: string): XmlRpcValue {
  const p = new Parser(xml);
  p.skipProlog();
  p.open('methodResponse');
  if (p.peekOpen('fault')) {
    p.open('fault');
    const v = p.value();
    const o = typeof v === 'object' && v !== null && !Array.isArray(v) ? v : {};
    throw new XmlRpcFault(Number(o['faultCode'] ?? 0), String(o['faultString'] ?? ''));
  }
  p.open('params');
  p.open('param');
  return p.value();
}

class Parser {
  #s: string;
  #i = 0;

  constructor(s: string) {
    this.#s = s;
  }

  skipProlog(): void {
    this.#ws();
    if (this.#s.startsWith('<?xml', this.#i)) this.#i = this.#s.indexOf('?>', this.#i) + 2;
  }

  #ws(): void {
    while (this.#i < this.#s.length && /\s/.test(this.#s[this.#i] ?? '')) this.#i++;
  }

  peekOpen(tag: string): boolean {
    this.#ws();
    return new RegExp(`^<${tag}\\s*/?>`).test(this.#s.slice(this.#i, this.#i + tag.length + 4));
  }

  open(tag: string): void {
    this.#ws();
    const m = new RegExp(`^<${tag}\\s*>`).exec(this.#s.slice(this.#i, this.#i + tag.length + 20));
    if (m === null) throw new Error(`XML-RPC: <${tag}> expected at ${this.#i}`);
    this.#i += m[0].length;
  }

  close(tag: string): void {
    this.#ws();
    const m = new RegExp(`^</${tag}\\s*>`).exec(this.#s.slice(this.#i, this.#i + tag.length + 20));
    if (m === null) throw new Error(`XML-RPC: </${tag}> expected at ${this.#i}`);
    this.#i += m[0].length;
  }

  /** Text up to the next tag, unescaped. */
  #text(): string {
    const end = this.#s.indexOf('<', this.#i);
    const t = this.#s.slice(this.#i, end < 0 ? undefined : end);
    this.#i = end < 0 ? this.#s.length : end;
    return unescapeXml(t);
  }

  value(): XmlRpcValue {
    this.open('value');
    // <value>text</value> is a string.
    if (this.#s[this.#i] !== '<' || this.#s.startsWith('</value', this.#i)) {
      const t = this.#text();
      if (this.#s.startsWith('</value', this.#i)) {
        this.close('value');
        return t;
      }
    }
    this.#ws();
    const m = /^<([A-Za-z0-9.]+)\s*(\/?)>/.exec(this.#s.slice(this.#i, this.#i + 40));
    if (m === null) throw new Error(`XML-RPC: a type expected at ${this.#i}`);
    const type = m[1] ?? '';
    this.#i += m[0].length;
    let v: XmlRpcValue;
    if (m[2] === '/') v = type === 'string' ? '' : null;
    else if (type === 'struct') {
      const o: Record<string, XmlRpcValue> = {};
      while (this.peekOpen('member')) {
        this.open('member');
        this.open('name');
        const name = this.#text();
        this.close('name');
        o[name] = this.value();
        this.close('member');
      }
      this.close('struct');
      v = o;
    } else if (type === 'array') {
      this.open('data');
      const a: XmlRpcValue[] = [];
      while (this.peekOpen('value')) a.push(this.value());
      this.close('data');
      this.close('array');
      v = a;
    } else {
      const t = this.#text();
      this.close(type);
      if (type === 'int' || type === 'i4' || type === 'i8' || type === 'double') v = Number(t.trim());
      else if (type === 'boolean') v = t.trim() === '1';
      else v = t;
    }
    this.close('value');
    return v;
  }
}

/** A `<methodCall>`'s method and parameters (the test doubles' side). */
export function parseXmlRpcCall(xml: string): { method: string; params: XmlRpcValue[] } {
  const method = /<methodName>([^<]*)<\/methodName>/.exec(xml)?.[1];
  if (method === undefined) throw new Error('XML-RPC: no methodName');
  const params: XmlRpcValue[] = [];
  const start = xml.indexOf('<param>');
  if (start >= 0) {
    const inner = xml.slice(start, xml.lastIndexOf('</param>') + '</param>'.length);
    // Each <param> re-parsed as a response's, the same grammar.
    for (const m of inner.matchAll(/<param>([\s\S]*?)<\/param>(?=\s*(?:<param>|$))/g)) {
      params.push(
        parseXmlRpcResponse(`<methodResponse><params><param>${m[1] ?? ''}</param></params></methodResponse>`),
      );
    }
  }
  return { method: unescapeXml(method), params };
}

/** A `<methodResponse>` holding `value` (the test doubles' side). */
export function xmlRpcResponse(value: XmlRpcValue): string {
  return `<?xml version="1.0" encoding="UTF-8"?><methodResponse><params><param>${encodeValue(value)}</param></params></methodResponse>`;
}
