import assert from 'node:assert/strict';
import { constants } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createSecureContext } from 'node:tls';
import { type TlsOptionsInput, tlsOptionsSchema } from '../config/dynamic/tls.ts';
import { TestPki } from '../upstream/test-pki.ts';
import {
  type CompiledTlsOptions,
  compileTlsOptions,
  compileTlsOptionsSets,
  DEFAULT_GROUPS,
  DEFAULT_TLS12_CIPHERS,
  negotiateAlpn,
  resolvePem,
  TLS13_SUITES,
} from './tls-options.ts';

function compile(input: TlsOptionsInput, caPems: string[] = []): CompiledTlsOptions {
  const r = compileTlsOptions('o', tlsOptionsSchema.parse(input), caPems);
  assert.ok('options' in r, JSON.stringify(r));
  return r.options;
}

/** A CA made by the openssl command line (TestPki), independent of our x509 code. */
function opensslCa(): string {
  const pki = new TestPki('test CA');
  pki.remove();
  return pki.ca.certPem;
}

describe('compileTlsOptions', () => {
  it('maps the defaults: TLS 1.2 to 1.3, AEAD-only ECDHE suites for 1.2, every 1.3 suite, no client certificate', () => {
    const o = compile({});
    assert.equal(o.context.minVersion, 'TLSv1.2');
    assert.equal(o.context.maxVersion, 'TLSv1.3');
    assert.equal(o.context.ciphers, [...TLS13_SUITES, ...DEFAULT_TLS12_CIPHERS].join(':'));
    assert.ok(DEFAULT_TLS12_CIPHERS.every((c) => c.startsWith('ECDHE-') && /GCM|CHACHA20/.test(c)));
    // Go's default groups (Traefik sets none): no X448, no finite-field groups.
    assert.equal(o.context.ecdhCurve, DEFAULT_GROUPS);
    assert.match(DEFAULT_GROUPS, /^(X25519MLKEM768:)?X25519:P-256:P-384:P-521$/);
    const options = o.context.secureOptions ?? 0;
    assert.equal(options & constants.SSL_OP_NO_RENEGOTIATION, constants.SSL_OP_NO_RENEGOTIATION);
    assert.equal(options & constants.SSL_OP_NO_COMPRESSION, constants.SSL_OP_NO_COMPRESSION);
    assert.equal(o.context.ca, undefined);
    assert.equal(o.context.honorCipherOrder, true);
    assert.deepEqual([o.requestCert, o.rejectUnauthorized, o.clientAuthType], [false, false, 'NoClientCert']);
    assert.deepEqual(o.alpnProtocols, ['h2', 'http/1.1']);
    assert.equal(o.sniStrict, false);
  });

  it('maps Go cipher suite and curve names to OpenSSL names, keeping TLS 1.3 unless 1.3 suites are listed', () => {
    const o = compile({
      cipherSuites: [
        'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
        'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305',
        'TLS_FALLBACK_SCSV',
      ],
      curvePreferences: ['X25519', 'CurveP256', 'secp256r1', 'CurveP521'],
    });
    assert.equal(
      o.context.ciphers,
      [...TLS13_SUITES, 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-CHACHA20-POLY1305'].join(':'),
    );
    assert.equal(o.context.ecdhCurve, 'X25519:P-256:P-521');
    const only13 = compile({
      cipherSuites: ['TLS_AES_256_GCM_SHA384', 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256'],
    });
    assert.equal(only13.context.ciphers, 'TLS_AES_256_GCM_SHA384:ECDHE-RSA-AES128-GCM-SHA256');
  });

  it('lowers the OpenSSL security level only when TLS 1.0 or 1.1 is allowed', () => {
    const o = compile({ minVersion: 'VersionTLS11', maxVersion: 'VersionTLS12' });
    assert.equal(o.context.minVersion, 'TLSv1.1');
    assert.equal(o.context.maxVersion, 'TLSv1.2');
    assert.match(String(o.context.ciphers), /ECDHE-RSA-AES128-SHA:.*@SECLEVEL=0$/);
    assert.doesNotMatch(String(compile({}).context.ciphers), /SECLEVEL/);
  });

  it('maps each clientAuthType to a verify mode', () => {
    const ca = opensslCa();
    const mode = (clientAuthType: string) => {
      const o = compile({ clientAuth: { caFiles: ['x'], clientAuthType } as never }, [ca]);
      return [o.requestCert, o.rejectUnauthorized, o.context.ca !== undefined];
    };
    assert.deepEqual(mode('NoClientCert'), [false, false, false]);
    assert.deepEqual(mode('RequestClientCert'), [true, false, true]);
    assert.deepEqual(mode('RequireAnyClientCert'), [true, false, true]);
    assert.deepEqual(mode('VerifyClientCertIfGiven'), [true, false, true]);
    assert.deepEqual(mode('RequireAndVerifyClientCert'), [true, true, true]);
  });

  it('gives different policies different session contexts and equal policies equal fingerprints', () => {
    const a = compile({});
    const b = compile({ sniStrict: true });
    assert.notEqual(a.context.sessionIdContext, b.context.sessionIdContext);
    assert.equal(a.fingerprint, compile({}).fingerprint);
    assert.equal(String(a.context.sessionIdContext).length, 32);
    assert.doesNotThrow(() => createSecureContext(a.context));
  });

  it('refuses a CA file that holds no certificate, pointing at it', () => {
    const r = compileTlsOptions('o', tlsOptionsSchema.parse({ clientAuth: { caFiles: ['a', 'b'] } }), [
      opensslCa(),
      'junk',
    ]);
    assert.deepEqual(r, { error: 'no PEM certificate found', at: ['clientAuth', 'caFiles', 1] });
  });
});

describe("what Traefik's decoder takes and its buildTLSConfig refuses or ignores", () => {
  const refused = (input: TlsOptionsInput) => {
    const r = compileTlsOptions('o', tlsOptionsSchema.parse(input), []);
    assert.ok('error' in r, JSON.stringify(r));
    return `${(r.at ?? []).join('.')}: ${r.error}`;
  };

  it('refuses an unknown cipher suite, curve or clientAuthType, and a verifying type without caFiles, at its path', () => {
    assert.match(
      refused({ cipherSuites: ['TLS_AES_128_GCM_SHA256', 'TLS_NOPE'] }),
      /^cipherSuites\.1: unknown cipher suite "TLS_NOPE"/,
    );
    assert.match(refused({ curvePreferences: ['P-256'] }), /^curvePreferences\.0: unknown curve "P-256"/);
    assert.match(
      refused({ clientAuth: { clientAuthType: 'Sometimes' } }),
      /^clientAuth\.clientAuthType: unknown clientAuthType "Sometimes"/,
    );
    assert.match(
      refused({ clientAuth: { clientAuthType: 'VerifyClientCertIfGiven' } }),
      /^clientAuth\.caFiles: clientAuthType VerifyClientCertIfGiven needs caFiles/,
    );
  });

  // pkg/tls/tlsmanager.go: `if minConst, exists := MinVersion[…]; exists`: Go's defaults then.
  it("gives an unknown minVersion or maxVersion Go's default, TLS 1.2 to 1.3", () => {
    const o = compile({ minVersion: 'TLS1.0', maxVersion: 'VersionTLS14' });
    assert.deepEqual([o.context.minVersion, o.context.maxVersion], ['TLSv1.2', 'TLSv1.3']);
    assert.equal(compile({ maxVersion: 'nope', minVersion: 'VersionTLS13' }).context.minVersion, 'TLSv1.3');
  });
});

describe('compileTlsOptionsSets', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tls-sets-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, opensslCa());
  const read = (p: string) => readFileSync(p, 'utf8');

  it("adds Traefik's default options when the section has none, and reads caFiles", () => {
    const r = compileTlsOptionsSets(
      { options: { mtls: tlsOptionsSchema.parse({ clientAuth: { caFiles: [caFile] } }) } },
      read,
    );
    assert.deepEqual(r.issues, []);
    assert.deepEqual([...r.options.keys()], ['mtls', 'default']);
    assert.equal(r.options.get('mtls')?.clientAuthType, 'RequireAndVerifyClientCert');
    assert.deepEqual(r.options.get('default')?.alpnProtocols, ['h2', 'http/1.1']);
  });

  it('uses a configured default options set instead of the built-in one', () => {
    const r = compileTlsOptionsSets(
      { options: { default: tlsOptionsSchema.parse({ minVersion: 'VersionTLS13' }) } },
      read,
    );
    assert.equal(r.options.get('default')?.context.minVersion, 'TLSv1.3');
  });

  it('leaves out a set whose CA file cannot be read, with an error at that file', () => {
    const r = compileTlsOptionsSets(
      {
        options: {
          mtls: tlsOptionsSchema.parse({ clientAuth: { caFiles: [caFile, join(dir, 'nope.pem')] } }),
        },
      },
      read,
    );
    assert.equal(r.options.has('mtls'), false);
    assert.deepEqual(r.issues, [
      {
        severity: 'error',
        message: `unable to read CA file: open ${join(dir, 'nope.pem')}: no such file or directory (Traefik reads a path that names no file as the PEM itself, and says "invalid certificate(s) content")`,
        path: ['tls', 'options', 'mtls', 'clientAuth', 'caFiles', 1],
      },
    ]);
  });

  it('takes inline PEM as it is', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n';
    assert.deepEqual(
      resolvePem(pem, () => assert.fail('must not read')),
      { pem },
    );
  });
});

describe('negotiateAlpn', () => {
  it("picks the server's first protocol that the client offers", () => {
    assert.equal(negotiateAlpn(['h2', 'http/1.1'], ['http/1.1', 'h2']), 'h2');
    assert.equal(negotiateAlpn(['h2', 'http/1.1'], ['http/1.1']), 'http/1.1');
    assert.equal(negotiateAlpn(['http/1.1', 'h2'], ['h2', 'http/1.1']), 'http/1.1');
  });

  it('lets an http/1.1 client reach an h2-only server, as Go does', () => {
    assert.equal(negotiateAlpn(['h2'], ['http/1.1']), 'http/1.1');
  });

  it('refuses a client with no protocol in common', () => {
    assert.equal(negotiateAlpn(['h2', 'http/1.1'], ['spdy/3', 'imap']), undefined);
    assert.equal(negotiateAlpn(['http/1.1'], ['h2']), undefined);
  });
});
