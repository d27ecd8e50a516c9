/** Reads the extensions out of a certificate or CSR with our DER reader, for tests. */
import { children, content, decodeOid, type Element, readElement } from '../../core/der-reader.ts';

export interface ParsedExtension {
  readonly critical: boolean;
  /** extnValue's content: the DER of the extension's own value. */
  readonly value: Buffer;
}

function pemToDer(pem: string): Buffer {
  const body = pem.replace(/-----(BEGIN|END) [A-Z ]+-----/g, '').replace(/\s+/g, '');
  return Buffer.from(body, 'base64');
}

function readExtensions(der: Buffer, list: Element): Map<string, ParsedExtension> {
  const out = new Map<string, ParsedExtension>();
  for (const ext of children(der, list)) {
    const parts = children(der, ext);
    const id = decodeOid(content(der, parts[0]!));
    const critical = parts.length === 3 && parts[1]!.tag === 0x01 && content(der, parts[1]!)[0] === 0xff;
    out.set(id, { critical, value: Buffer.from(content(der, parts[parts.length - 1]!)) });
  }
  return out;
}

/** The extensions of a PEM certificate, by OID. */
export function certificateExtensions(certPem: string): Map<string, ParsedExtension> {
  const der = pemToDer(certPem);
  const [tbs] = children(der, readElement(der));
  const wrapper = children(der, tbs!).find((field) => field.tag === 0xa3);
  if (wrapper === undefined) return new Map();
  return readExtensions(der, children(der, wrapper)[0]!);
}

/** The TBSCertificate's fields, for checking raw encodings (version, serial, validity...). */
export function tbsCertificateFields(certPem: string): { der: Buffer; fields: Element[] } {
  const der = pemToDer(certPem);
  const [tbs] = children(der, readElement(der));
  return { der, fields: children(der, tbs!) };
}

/** The extensions requested by a PEM CSR's extensionRequest attribute, by OID. */
export function requestedExtensions(csrPem: string): Map<string, ParsedExtension> {
  const der = pemToDer(csrPem);
  const [info] = children(der, readElement(der));
  const attributes = children(der, info!).find((field) => field.tag === 0xa0);
  if (attributes === undefined) return new Map();
  for (const attribute of children(der, attributes)) {
    const [type, values] = children(der, attribute);
    if (decodeOid(content(der, type!)) !== '1.2.840.113549.1.9.14') continue;
    return readExtensions(der, children(der, values!)[0]!);
  }
  return new Map();
}

/** The CSR's subject Name, raw. */
export function requestSubject(csrPem: string): Buffer {
  const der = pemToDer(csrPem);
  const [info] = children(der, readElement(der));
  const subject = children(der, info!)[1]!;
  return der.subarray(subject.start, subject.end);
}
