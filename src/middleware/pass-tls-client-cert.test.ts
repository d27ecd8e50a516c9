import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { middlewareSchemas } from '../config/dynamic/middlewares.ts';
import type { RequestHead } from '../core/request.ts';
import { formatIp, goSubjectString, queryEscape, type RequestTls } from './pass-tls-client-cert.ts';
import { type ClientCertPki, makeClientCertPki } from './test-client-cert.ts';
import { build, makeRequest } from './test-request.ts';

/*
 * Certificates from test-client-cert.ts (fixed serials, dates and names): every expected value
 * below is written out by hand from Traefik v3's rules. The escaped literal was checked against
 * Python's urllib.parse.quote_plus, which keeps the same unreserved set as Go's url.QueryEscape.
 */

/** A connection whose client sent `pem` (or nothing), counting how often it is asked. */
function connection(pem: string | undefined): RequestTls & { calls: number } {
  const cert = pem === undefined ? undefined : new X509Certificate(pem);
  const conn = {
    calls: 0,
    getPeerX509Certificate(): X509Certificate | undefined {
      conn.calls++;
      return cert;
    },
  };
  return conn;
}

function request(
  tls: RequestTls | undefined,
  headers: ReadonlyArray<readonly [string, string]> = [],
): RequestHead {
  const req = makeRequest(`${tls === undefined ? 'http' : 'https'}://app.test/x`, { headers });
  return tls === undefined ? req : Object.assign(req, { tls });
}

function run(config: unknown, req: RequestHead): RequestHead {
  const m = build('passTLSClientCert', config);
  assert.equal(m.onRequest?.(req), undefined);
  return req;
}

const pemBody = (pem: string): string =>
  pem
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('-----'))
    .join('');

const ALL_INFO = {
  notAfter: true,
  notBefore: true,
  sans: true,
  serialNumber: true,
  subject: {
    country: true,
    province: true,
    locality: true,
    organization: true,
    organizationalUnit: true,
    commonName: true,
    serialNumber: true,
    domainComponent: true,
  },
  issuer: {
    country: true,
    province: true,
    locality: true,
    organization: true,
    commonName: true,
    serialNumber: true,
    domainComponent: true,
  },
};

/** Go's url.QueryUnescape, for comparing with the unescaped text Traefik's tests use. */
const queryUnescape = (v: string): string => decodeURIComponent(v.replaceAll('+', ' '));

describe('passTLSClientCert', () => {
  let pki: ClientCertPki;
  before(() => {
    pki = makeClientCertPki();
  });
  after(() => pki.remove());

  it('passes the leaf certificate as its PEM body on one line, neither armoured nor URL-escaped', () => {
    const req = run({ pem: true }, request(connection(pki.client)));
    assert.deepEqual(req.headers.getAll('x-forwarded-tls-client-cert'), [pemBody(pki.client)]);
    assert.equal(req.headers.has('x-forwarded-tls-client-cert-info'), false);
  });

  it("builds the info field in Traefik's order and escapes it as Go's url.QueryEscape", () => {
    const req = run({ info: ALL_INFO }, request(connection(pki.client)));
    assert.deepEqual(req.headers.getAll('x-forwarded-tls-client-cert-info'), [
      'Subject%3D%22DC%3Dcom%2CDC%3Dexample%2CC%3DFR%2CC%3DUS%2CST%3DOccitanie%2CL%3DToulouse%2CL%3DLyon' +
        '%2CO%3DAcme%2C+Inc.%2CO%3DSoci%C3%A9t%C3%A9+G%C3%A9n%C3%A9rale%2COU%3DUnit+A%2COU%3DUnit+B%2CSN%3DS-2' +
        '%2CCN%3Dclient.example.com%22%3BIssuer%3D%22DC%3Dorg%2CDC%3Dexample%2CC%3DFR%2CST%3DOccitanie' +
        '%2CL%3DToulouse%2CO%3DExample+CA%2CSN%3DCA-1%2CCN%3DExample+Root%22%3BSerialNumber%3D%22' +
        '17429726349691885448%22%3BNB%3D%221704164645%22%3BNA%3D%222569738150%22%3BSAN%3D%22b.example.com' +
        '%2Ca.example.com%2Cclient%40example.com%2Csecond%40example.com%2C2001%3Adb8%3A%3A1%3A0%3A0%3A1' +
        '%2C192.0.2.7%2C10.1.2.3%2Cspiffe%3A%2F%2Fexample.com%2Fclient%22',
    ]);
    assert.equal(req.headers.has('x-forwarded-tls-client-cert'), false);
  });

  it('sends only the parts asked for, each name part in Go pkix.Name order (CN and SN the last ones)', () => {
    const config = {
      pem: true,
      info: {
        notAfter: true,
        sans: true,
        subject: { organization: true, commonName: true, serialNumber: true },
        issuer: { country: true },
      },
    };
    const req = run(config, request(connection(pki.client)));
    assert.equal(
      queryUnescape(req.headers.get('x-forwarded-tls-client-cert-info')!),
      'Subject="O=Acme, Inc.,O=Société Générale,SN=S-2,CN=client.example.com";Issuer="C=FR";NA="2569738150";' +
        'SAN="b.example.com,a.example.com,client@example.com,second@example.com,2001:db8::1:0:0:1,192.0.2.7,' +
        '10.1.2.3,spiffe://example.com/client"',
    );
    assert.equal(req.headers.get('x-forwarded-tls-client-cert'), pemBody(pki.client));
  });

  it('leaves out what the certificate lacks, down to an empty field as Traefik sends it', () => {
    const some = run(
      { info: { sans: true, subject: { organizationalUnit: true, commonName: true } } },
      request(connection(pki.minimal)),
    );
    assert.equal(
      queryUnescape(some.headers.get('x-forwarded-tls-client-cert-info')!),
      'Subject="CN=minimal"',
    );
    const none = run(
      { info: { sans: true, subject: { organization: true, domainComponent: true } } },
      request(connection(pki.minimal)),
    );
    assert.deepEqual(none.headers.getAll('x-forwarded-tls-client-cert-info'), ['']);
  });

  it('escapes T61String bytes as they are and a BMPString as UTF-8, as Go holds them', () => {
    const req = run(
      { info: { subject: { organization: true, organizationalUnit: true, commonName: true } } },
      request(connection(pki.legacy)),
    );
    assert.equal(
      req.headers.get('x-forwarded-tls-client-cert-info'),
      'Subject%3D%22O%3DSoci%E9t%E9%2COU%3D%E6%97%A5%E6%9C%AC%2CCN%3Dplain%22',
    );
  });

  // Traefik's ServeHTTP sets (replaces) the fields only when req.TLS has peer certificates; the
  // entry point, not the middleware, removes those of untrusted peers.
  it('replaces the fields with a certificate, and leaves them as they came without one', () => {
    const spoofed = [
      ['X-Forwarded-Tls-Client-Cert', 'forged'],
      ['x-forwarded-tls-client-cert-info', 'Subject%3D%22CN%3Dadmin%22'],
      ['X-FORWARDED-TLS-CLIENT-CERT', 'forged again'],
      ['Accept', '*/*'],
    ] as const;
    const cases: {
      config: unknown;
      tls: RequestTls | undefined;
      pem?: string;
      info?: string;
      keep?: true;
    }[] = [
      { config: { pem: true, info: ALL_INFO }, tls: undefined, keep: true },
      { config: { pem: true, info: ALL_INFO }, tls: connection(undefined), keep: true },
      { config: {}, tls: connection(pki.client), keep: true },
      { config: { pem: true }, tls: connection(pki.minimal), pem: pemBody(pki.minimal) },
      {
        config: { info: { subject: { commonName: true } } },
        tls: connection(pki.minimal),
        info: 'Subject%3D%22CN%3Dminimal%22',
      },
    ];
    for (const c of cases) {
      const req = run(c.config, request(c.tls, spoofed));
      if (c.keep) {
        assert.deepEqual(
          [...req.headers.entries()].sort(),
          [['Host', 'app.test'], ...spoofed].sort(),
          JSON.stringify(c.config),
        );
        continue;
      }
      const want: [string, string][] = [
        ['Host', 'app.test'],
        ['Accept', '*/*'],
      ];
      // The field the options do not set stays as the client sent it.
      if (c.pem !== undefined) want.push(['X-Forwarded-Tls-Client-Cert', c.pem]);
      else want.push([...spoofed[0]], [...spoofed[2]]);
      if (c.info !== undefined) want.push(['X-Forwarded-Tls-Client-Cert-Info', c.info]);
      else want.push([...spoofed[1]]);
      assert.deepEqual([...req.headers.entries()].sort(), want.sort(), JSON.stringify(c.config));
    }
  });

  it('reads the certificate once per connection, not once per request', () => {
    const m = build('passTLSClientCert', { pem: true, info: ALL_INFO });
    const conn = connection(pki.client);
    const values = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const req = request(conn, [['X-Forwarded-Tls-Client-Cert', 'forged']]);
      m.onRequest?.(req);
      values.add(
        `${req.headers.get('x-forwarded-tls-client-cert')}|${req.headers.get('x-forwarded-tls-client-cert-info')}`,
      );
    }
    assert.equal(conn.calls, 1);
    assert.equal(values.size, 1);
    const other = connection(pki.minimal);
    const req = request(other);
    m.onRequest?.(req);
    assert.equal(other.calls, 1);
    assert.equal(req.headers.get('x-forwarded-tls-client-cert'), pemBody(pki.minimal));
  });

  it("accepts Traefik's keys only: the issuer has no organizationalUnit, unknown keys are errors", () => {
    const schema = middlewareSchemas.passTLSClientCert;
    assert.deepEqual(schema.parse({}), { pem: false });
    assert.equal(schema.safeParse({ info: { issuer: { organizationalUnit: true } } }).success, false);
    assert.equal(schema.safeParse({ info: { subject: { organizationalUnit: true } } }).success, true);
    assert.equal(schema.safeParse({ pem: true, escape: false }).success, false);
    assert.equal(schema.safeParse({ pem: 'yes' }).success, false);
  });
});

describe('formatIp', () => {
  it("prints addresses as Go's net.IP.String does", () => {
    const v6 = (hex: string): Buffer => Buffer.from(hex.replaceAll(':', ''), 'hex');
    const cases: [Buffer, string][] = [
      [Buffer.from([192, 0, 2, 7]), '192.0.2.7'],
      [v6('0000:0000:0000:0000:0000:ffff:0a01:0203'), '10.1.2.3'],
      [v6('0000:0000:0000:0000:0000:0000:0000:0000'), '::'],
      [v6('0000:0000:0000:0000:0000:0000:0000:0001'), '::1'],
      [v6('0001:0000:0000:0000:0000:0000:0000:0000'), '1::'],
      [v6('2001:0db8:0000:0000:0001:0000:0000:0001'), '2001:db8::1:0:0:1'],
      [v6('2001:0db8:0000:0001:0000:0000:0000:0001'), '2001:db8:0:1::1'],
      [v6('2001:0db8:0000:0001:0001:0001:0001:0001'), '2001:db8:0:1:1:1:1:1'],
      [v6('fe80:0000:0000:0000:0abc:00ff:fe00:0001'), 'fe80::abc:ff:fe00:1'],
    ];
    for (const [bytes, want] of cases) assert.equal(formatIp(bytes), want);
  });
});

describe('queryEscape', () => {
  it("keeps Go's unreserved bytes, turns space into '+' and escapes every other byte", () => {
    assert.equal(
      queryEscape('aZ09-._~ !*\'()"=,;/:@+%'),
      'aZ09-._~+%21%2A%27%28%29%22%3D%2C%3B%2F%3A%40%2B%25',
    );
    assert.equal(queryEscape('\u00e9\u00ff\u0000'), '%E9%FF%00');
  });
});

describe('goSubjectString (the access log TLSClientSubject: Go pkix.Name.String())', () => {
  let pki: ClientCertPki;
  before(() => {
    pki = makeClientCertPki();
  });
  after(() => pki.remove());

  const der = (pem: string): Buffer => new X509Certificate(pem).raw;

  it("writes the subject as Go's Name.String(), worked out by hand from crypto/x509/pkix", () => {
    // Subject, in the certificate's order: DC=com, DC=example, C=FR, C=US, ST=Occitanie,
    // L=Toulouse, L=Lyon, O="Acme, Inc.", O="Société Générale", OU=Unit A+OU=Unit B,
    // serialNumber=S-1, serialNumber=S-2, CN=first client, CN=client.example.com,
    // emailAddress=x@example.com. Go: the unparsed types first (DC twice, emailAddress), as
    // <oid>=#<asn1.Marshal of the string>: "com" and "example" are printable (PrintableString,
    // 0x13), "x@example.com" is not ('@': UTF8String, 0x0c); then ToRDNSequence's C, ST, L, O,
    // OU (each type one RDN, values joined by '+'), the last CN and the last SERIALNUMBER; written
    // last RDN first, ',' and '+' in values escaped.
    assert.equal(
      goSubjectString(der(pki.client)),
      'SERIALNUMBER=S-2,CN=client.example.com,OU=Unit A+OU=Unit B,O=Acme\\, Inc.+O=Société Générale,' +
        'L=Toulouse+L=Lyon,ST=Occitanie,C=FR+C=US,' +
        '1.2.840.113549.1.9.1=#0c0d78406578616d706c652e636f6d,' +
        '0.9.2342.19200300.100.1.25=#13076578616d706c65,0.9.2342.19200300.100.1.25=#1303636f6d',
    );
    assert.equal(goSubjectString(der(pki.minimal)), 'CN=minimal');
    // T61String 'é' is one byte Go keeps as it is (not UTF-8); the BMPString becomes UTF-8.
    assert.equal(
      Buffer.from(goSubjectString(der(pki.legacy)), 'utf8').toString('hex'),
      Buffer.from('CN=plain,OU=日本,O=Soci', 'utf8').toString('hex') +
        'efbfbd' +
        Buffer.from('t', 'utf8').toString('hex') +
        'efbfbd',
    );
  });
});
