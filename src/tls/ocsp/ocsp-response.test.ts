/**
 * Requests built here, answered by `openssl ocsp` (a real responder), read back here; and the
 * request read by `openssl ocsp -reqin` as an independent parser.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TestPki } from '../../upstream/test-pki.ts';
import { certIdParts, ocspRequest } from './ocsp-request.ts';
import { parseOcspResponse } from './ocsp-response.ts';
import { OcspResponder } from './test-responder.ts';

function post(url: string, body: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', headers: { 'content-type': 'application/ocsp-request' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => resolve(Buffer.concat(chunks)));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const x509 = (pem: string): X509Certificate => new X509Certificate(pem);

describe('OCSP request and response', () => {
  const pki = new TestPki('OCSP Test CA');
  const other = new TestPki('Another CA');
  const good = pki.issue('good.test', ['good.test'], { ocspUrl: 'http://ocsp.invalid/' });
  const revoked = pki.issue('revoked.test', ['revoked.test'], { ocspUrl: 'http://ocsp.invalid/' });
  const strangers = other.issue('stranger.test', ['stranger.test']);
  const delegate = pki.issueOcspSigner('OCSP Delegate');
  const ca = x509(pki.ca.certPem);
  let responder: OcspResponder;
  let delegated: OcspResponder;
  let foreign: OcspResponder;

  before(async () => {
    pki.revoke(revoked);
    responder = await OcspResponder.start(pki, { validMinutes: 60 });
    delegated = await OcspResponder.start(pki, { validMinutes: 60, signer: delegate });
    foreign = await OcspResponder.start(other, { validMinutes: 60 });
  });

  after(async () => {
    await Promise.all([responder?.stop(), delegated?.stop(), foreign?.stop()]);
    pki.remove();
    other.remove();
  });

  const ask = async (at: OcspResponder, leafPem: string, issuer = ca) => {
    const parts = certIdParts(x509(leafPem), issuer);
    return { parts, der: await post(at.url, ocspRequest(parts)) };
  };

  it('builds a request openssl reads as one CertID with the certificate serial', () => {
    const leaf = x509(good.certPem);
    const file = join(pki.dir, 'req.der');
    writeFileSync(file, ocspRequest(certIdParts(leaf, ca)));
    const r = spawnSync('openssl', ['ocsp', '-reqin', file, '-req_text'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Hash Algorithm: sha1/);
    assert.match(r.stdout, new RegExp(`Serial Number: ${leaf.serialNumber}`, 'i'));
    assert.equal(r.stdout.match(/Certificate ID:/g)?.length, 1);
  });

  it('reads good and revoked answers signed by the CA, with their times', async () => {
    const now = Date.now();
    const g = await ask(responder, good.certPem);
    const ok = parseOcspResponse(g.der, g.parts, ca, now);
    assert.equal(ok.status, 'good');
    assert.ok(
      ok.nextUpdate !== undefined && ok.nextUpdate - ok.thisUpdate === 60 * 60_000,
      JSON.stringify(ok),
    );
    const r = await ask(responder, revoked.certPem);
    const bad = parseOcspResponse(r.der, r.parts, ca, now);
    assert.equal(bad.status, 'revoked');
    assert.ok(bad.revokedAt !== undefined);
  });

  it('accepts a delegated responder the CA issued for OCSP signing', async () => {
    const g = await ask(delegated, good.certPem);
    assert.equal(parseOcspResponse(g.der, g.parts, ca, Date.now()).status, 'good');
  });

  it('refuses a response signed by another CA, for another certificate, tampered or expired', async () => {
    const now = Date.now();
    const g = await ask(responder, good.certPem);
    // Another CA's responder answers "unknown" about our certificate, signed with its own key.
    const f = await ask(foreign, good.certPem);
    assert.throws(() => parseOcspResponse(f.der, f.parts, ca, now), /signature does not verify/);
    const s = await ask(foreign, strangers.certPem, x509(other.ca.certPem));
    assert.throws(() => parseOcspResponse(s.der, g.parts, ca, now), /signature does not verify/);
    const r = await ask(responder, revoked.certPem);
    assert.throws(() => parseOcspResponse(r.der, g.parts, ca, now), /no answer for this certificate/);
    // One digit of producedAt changed (the first GeneralizedTime in the signed data).
    const tampered = Buffer.from(g.der);
    const at = tampered.indexOf(Buffer.from([0x18, 0x0f]));
    assert.ok(at > 0);
    tampered[at + 15]! ^= 0x01;
    assert.throws(() => parseOcspResponse(tampered, g.parts, ca, now), /signature does not verify/);
    assert.throws(() => parseOcspResponse(g.der, g.parts, ca, now + 2 * 3_600_000), /expired/);
    assert.throws(() => parseOcspResponse(g.der, g.parts, ca, now - 3_600_000), /not valid yet/);
    assert.throws(() => parseOcspResponse(Buffer.from('not der'), g.parts, ca, now));
  });

  it('reports a responder error status', () => {
    // OCSPResponse { responseStatus tryLater(3) }: what a busy responder sends (RFC 6960 4.2.1).
    const parts = certIdParts(x509(good.certPem), ca);
    assert.throws(
      () => parseOcspResponse(Buffer.from([0x30, 0x03, 0x0a, 0x01, 0x03]), parts, ca, Date.now()),
      /tryLater/,
    );
  });
});
