/** PEM armour (RFC 7468). */

export function toPem(label: string, der: Uint8Array): string {
  const base64 = Buffer.from(der).toString('base64');
  const lines: string[] = [];
  // RFC 7468 2: generators wrap base64 at exactly 64 characters.
  for (let i = 0; i < base64.length; i += 64) lines.push(base64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

const CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/;

/** The first CERTIFICATE block of a PEM bundle (the leaf, by convention), or undefined. */
export function firstCertificatePem(pem: string): string | undefined {
  return CERTIFICATE.exec(pem)?.[0];
}

const CERTIFICATES = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** Every CERTIFICATE block of a PEM bundle, in order. */
export function certificatePems(pem: string): string[] {
  return pem.match(CERTIFICATES) ?? [];
}

/** Every PEM block of a text, with its label, as Go's pem.Decode reads them one after another. */
export function pemBlocks(text: string): { type: string; der: Buffer }[] {
  return [...text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----\r?\n([^-]*)-----END \1-----/g)].map((m) => ({
    type: m[1]!,
    der: Buffer.from(m[2]!.replace(/\s+/g, ''), 'base64'),
  }));
}
