/**
 * Traefik v3.7's certificates API (traefik/traefik#12628: pkg/api/handler_certificate.go,
 * certificate.go): `GET /api/certificates` lists the default store's certificates with their
 * facts and a status by expiry (enabled, warning within 30 days, expired), with the lists'
 * search, status, sortBy and pagination; `GET /api/certificates/{fingerprint}` one of them.
 */
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { selfSignedCertificate } from '../helpers/tls-certs.ts';

type Cert = Record<string, unknown> & { name: string; sans: string[]; status: string; commonName: string };

describe('GET /api/certificates', () => {
  const long = selfSignedCertificate(['b.test', '127.0.0.1'], { days: 365 });
  const soon = selfSignedCertificate(['a.test'], { days: 10 });
  const fingerprint = (pem: string) =>
    createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
  let proxy: ProxyProcess;

  before(async () => {
    proxy = await startProxy({
      config: `entryPoints:
  websecure:
    address: "127.0.0.1:0"
  traefik:
    address: "127.0.0.1:0"
log: { level: INFO }
api: {}
http:
  routers:
    secure:
      rule: "Host(\`b.test\`)"
      service: noop@internal
      entryPoints: [websecure]
      tls: {}
tls:
  certificates:
    - { certFile: long.pem, keyFile: long.key }
    - { certFile: soon.pem, keyFile: soon.key }
`,
      files: {
        'long.pem': long.certPem,
        'long.key': long.keyPem,
        'soon.pem': soon.certPem,
        'soon.key': soon.keyPem,
      },
    });
  });
  after(() => proxy?.stop());

  const get = (path: string) => fetch(`http://127.0.0.1:${proxy.ports['traefik']}${path}`);

  it("lists each certificate with Traefik's fields, sorted by common name", async () => {
    const r = await get('/api/certificates');
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-next-page'), '1');
    const certs = (await r.json()) as Cert[];
    assert.deepEqual(
      certs.map((c) => c.commonName),
      ['a.test', 'b.test'],
    );
    const b = certs[1]!;
    const x = new X509Certificate(long.certPem);
    assert.deepEqual(b, {
      name: fingerprint(long.certPem),
      sans: ['127.0.0.1', 'b.test'],
      notAfter: x.validToDate.toISOString().replace('.000Z', 'Z'),
      notBefore: x.validFromDate.toISOString().replace('.000Z', 'Z'),
      serialNumber: BigInt(`0x${x.serialNumber}`).toString(),
      commonName: 'b.test',
      issuerCN: 'b.test',
      version: 'v3',
      keyType: 'ECDSA',
      keySize: 256,
      signatureAlgorithm: 'ECDSA-SHA256',
      certFingerprint: fingerprint(long.certPem),
      publicKeyFingerprint: createHash('sha256')
        .update(x.publicKey.export({ type: 'spki', format: 'der' }))
        .digest('hex'),
      status: 'enabled',
    });
    assert.equal(certs[0]!.status, 'warning');
  });

  it('filters by status and search, sorts and pages as the other lists', async () => {
    const warning = (await (await get('/api/certificates?status=warning')).json()) as Cert[];
    assert.deepEqual(
      warning.map((c) => c.commonName),
      ['a.test'],
    );
    const found = (await (await get('/api/certificates?search=127.0.0')).json()) as Cert[];
    assert.deepEqual(
      found.map((c) => c.commonName),
      ['b.test'],
    );
    const desc = (await (await get('/api/certificates?sortBy=validUntil&direction=desc')).json()) as Cert[];
    assert.deepEqual(
      desc.map((c) => c.commonName),
      ['b.test', 'a.test'],
    );
    const page = await get('/api/certificates?per_page=1');
    assert.equal(page.headers.get('x-next-page'), '2');
  });

  it('answers one certificate by its fingerprint, 404 otherwise', async () => {
    const r = await get(`/api/certificates/${fingerprint(soon.certPem)}`);
    assert.equal(r.status, 200);
    assert.equal(((await r.json()) as Cert).commonName, 'a.test');
    const missing = await get('/api/certificates/nope');
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { message: string }).message, 'certificate not found: nope');
  });
});
