import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tlsOptionsSchema } from '../config/dynamic/tls.ts';
import { TestPki } from '../upstream/test-pki.ts';
import {
  type CertInput,
  CertStore,
  certificatesFromConfig,
  GeneratedDefaultCertificate,
} from './cert-store.ts';
import { type CompiledTlsOptions, compileTlsOptions } from './tls-options.ts';
import { selfSignedCertificate, TrustedRoots } from './x509/index.ts';

const DAY = 86_400_000;

function cert(
  names: string[],
  source = names[0] ?? 'cert',
  opts: { days?: number; notBefore?: Date } = {},
): CertInput {
  return { ...selfSignedCertificate(names, opts), source };
}

function options(input: unknown, name = 'o'): CompiledTlsOptions {
  const r = compileTlsOptions(name, tlsOptionsSchema.parse(input));
  assert.ok('options' in r);
  return r.options;
}

const generated = new GeneratedDefaultCertificate();
const a = cert(['a.example', 'www.a.example']);
const wild = cert(['*.wild.example']);
const exactUnderWild = cert(['x.wild.example']);
const ips = cert(['127.0.0.1', '::1'], 'ips');
const { store, issues } = CertStore.build([a, wild, exactUnderWild, ips], undefined, { generated });

function served(serverName: string | undefined, localAddress?: string): string {
  const r = store.lookup(serverName, undefined, localAddress);
  assert.ok(r !== undefined);
  return r.certificate.source;
}

describe('CertStore lookup', () => {
  it('finds a certificate by any of its names', () => {
    assert.deepEqual(issues, []);
    assert.equal(served('a.example'), 'a.example');
    assert.equal(served('www.a.example'), 'a.example');
    assert.deepEqual(store.lookup('a.example')?.certificateNames, ['a.example', 'www.a.example']);
  });

  it('matches case-insensitively and ignores a trailing dot', () => {
    assert.equal(served('WWW.A.Example'), 'a.example');
    assert.equal(served('a.example.'), 'a.example');
  });

  it('lets a wildcard cover exactly one label (RFC 6125 6.4.3)', () => {
    assert.equal(served('y.wild.example'), '*.wild.example');
    assert.equal(served('Y.WILD.example'), '*.wild.example');
    assert.equal(served('wild.example'), 'generated');
    assert.equal(served('a.y.wild.example'), 'generated');
  });

  it('prefers an exact name to a wildcard', () => {
    assert.equal(served('x.wild.example'), 'x.wild.example');
  });

  it('matches IP SANs from an IP literal SNI or, without SNI, from the local address', () => {
    assert.equal(served('127.0.0.1'), 'ips');
    assert.equal(served(undefined, '127.0.0.1'), 'ips');
    assert.equal(served(undefined, '::ffff:127.0.0.1'), 'ips');
    assert.equal(served(undefined, '::1'), 'ips');
    assert.equal(served(undefined, '0:0:0:0:0:0:0:1'), 'ips');
    assert.equal(served(undefined, '127.0.0.2'), 'generated');
    assert.equal(served('', undefined), 'generated');
  });

  it('serves a generated TRAEFIK DEFAULT CERT when no default is configured, the same across builds', () => {
    const def = store.defaultCertificate;
    assert.equal(def.generated, true);
    assert.equal(def.isDefault, true);
    assert.match(def.names[0] ?? '', /^traefik default cert$/);
    assert.match(def.names[1] ?? '', /^[0-9a-f]{32}\.[0-9a-f]{32}\.traefik\.default$/);
    const again = CertStore.build([a], undefined, { generated }).store;
    assert.equal(again.defaultCertificate.certPem, def.certPem);
    assert.equal(served('unknown.example'), 'generated');
  });

  it('renews the generated certificate a day before it expires', () => {
    let now = Date.now();
    const holder = new GeneratedDefaultCertificate(() => now);
    const first = holder.get();
    now += 363 * DAY;
    assert.equal(holder.get(), first);
    now += 2 * DAY;
    assert.notEqual(holder.get().certPem, first.certPem);
  });

  it('serves a configured default certificate for unknown names, and for its own names but under sniStrict', () => {
    const def = cert(['default.example'], 'default.pem');
    const r = CertStore.build([a], def, { generated });
    assert.deepEqual(r.issues, []);
    assert.equal(r.store.defaultCertificate.source, 'default.pem');
    assert.equal(r.store.lookup('nothing.example')?.certificate.source, 'default.pem');
    assert.equal(r.store.lookup(undefined)?.certificate.source, 'default.pem');
    assert.equal(r.store.lookup('default.example')?.certificate.source, 'default.pem');
    // Traefik's GetBestCertificate searches tls.certificates only (traefik/traefik#9495).
    const strict = options({ sniStrict: true });
    assert.equal(r.store.lookup('default.example', strict), undefined);
    assert.equal(r.store.lookup('a.example', strict)?.certificate.source, 'a.example');
    // Listed among the certificates too, it serves its names (the workaround Traefik gives, #10817).
    const both = CertStore.build([a, def], def, { generated });
    assert.equal(both.store.lookup('default.example', strict)?.certificate.source, 'default.pem');
  });

  it('never lets a default certificate take a name from a configured one', () => {
    const def = cert(['a.example'], 'default.pem');
    const r = CertStore.build([a], def, { generated });
    assert.equal(r.store.lookup('a.example')?.certificate.source, 'a.example');
  });

  it('refuses unknown names and handshakes without SNI when the options are sniStrict', () => {
    const strict = options({ sniStrict: true });
    assert.equal(store.lookup('unknown.example', strict), undefined);
    assert.equal(store.lookup(undefined, strict), undefined);
    assert.equal(store.lookup(undefined, strict, '127.0.0.1')?.certificate.source, 'ips');
    assert.equal(store.lookup('a.example', strict)?.certificate.source, 'a.example');
    assert.equal(store.lookup('y.wild.example', strict)?.certificate.source, '*.wild.example');
  });

  it('makes one context per certificate and options set, on first use, then reuses it', () => {
    const o1 = options({});
    const o2 = options({ minVersion: 'VersionTLS13' });
    const c1 = store.lookup('a.example', o1)?.secureContext;
    assert.ok(c1 !== undefined);
    assert.equal(store.lookup('www.a.example', o1)?.secureContext, c1);
    assert.notEqual(store.lookup('a.example', o2)?.secureContext, c1);
    assert.notEqual(store.lookup('a.example')?.secureContext, c1);
    assert.equal(store.lookup('a.example')?.secureContext, store.lookup('a.example')?.secureContext);
    assert.notEqual(store.lookup('y.wild.example', o1)?.secureContext, c1);
  });

  it('serves the certificate valid now, then the one that lasts longer, when two share a name', () => {
    const old = cert(['dup.example'], 'old', { days: 10 });
    const renewed = cert(['dup.example'], 'renewed', { days: 90 });
    const expired = cert(['dup.example'], 'expired', {
      days: 200,
      notBefore: new Date(Date.now() - 300 * DAY),
    });
    for (const order of [
      [old, renewed, expired],
      [expired, renewed, old],
    ]) {
      assert.equal(
        CertStore.build(order, undefined, { generated }).store.lookup('dup.example')?.certificate.source,
        'renewed',
      );
    }
  });
});

describe('CertStore.build checks', () => {
  it('refuses a certificate whose key does not match, naming its file, and keeps the others', () => {
    const other = selfSignedCertificate(['b.example']);
    const mismatched: CertInput = {
      certPem: a.certPem,
      keyPem: other.keyPem,
      source: '/certs/a.pem',
      path: ['tls', 'certificates', 1],
    };
    const r = CertStore.build([wild, mismatched], undefined, { generated });
    assert.deepEqual(r.issues, [
      {
        severity: 'error',
        message: '/certs/a.pem: the private key does not match the certificate',
        path: ['tls', 'certificates', 1],
      },
    ]);
    assert.equal(r.store.lookup('a.example')?.certificate.generated, true);
    assert.equal(r.store.certificates.length, 1);
  });

  it('reports a key or a certificate that cannot be read', () => {
    const badKey: CertInput = { certPem: a.certPem, keyPem: 'not a key', source: 'k.pem' };
    const badCert: CertInput = {
      certPem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
      keyPem: a.keyPem,
      source: 'c.pem',
    };
    const r = CertStore.build([badKey, badCert], undefined, { generated });
    assert.equal(r.issues.length, 2);
    assert.equal(
      r.issues[0]?.message,
      'k.pem: the private key cannot be read (PEM PKCS#8, PKCS#1 or SEC1, unencrypted)',
    );
    assert.match(r.issues[1]?.message ?? '', /^c\.pem: invalid certificate: /);
    assert.ok(r.issues.every((i) => i.severity === 'error'));
  });

  it('falls back to the generated default when the configured default is broken', () => {
    const broken: CertInput = { certPem: a.certPem, keyPem: wild.keyPem, source: 'default.pem' };
    const r = CertStore.build([], broken, { generated });
    assert.equal(r.issues[0]?.message, 'default.pem: the private key does not match the certificate');
    assert.equal(r.store.defaultCertificate.generated, true);
  });

  it('warns about an expired or not yet valid certificate and still serves it', () => {
    const now = Date.now();
    const expired = cert(['old.example'], 'old.pem', { days: 1, notBefore: new Date(now - 10 * DAY) });
    const future = cert(['new.example'], 'new.pem', { days: 10, notBefore: new Date(now + DAY) });
    const r = CertStore.build([expired, future], undefined, { generated, now });
    assert.deepEqual(
      r.issues.map((i) => [i.severity, i.message.replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/, 'DATE')]),
      [
        ['warning', 'old.pem: certificate for old.example expired on DATE'],
        ['warning', 'new.pem: certificate for new.example is not valid before DATE'],
      ],
    );
    assert.equal(r.store.lookup('old.example')?.certificate.source, 'old.pem');
  });

  it('warns about a configured file whose chain does not reach a known root, and still serves it', (t) => {
    const root = new TestPki('Store Root');
    const intermediate = new TestPki('Store Intermediate', root);
    t.after(() => {
      root.remove();
      intermediate.remove();
    });
    const leaf = intermediate.issue('chain.example', ['chain.example']);
    const roots = new TrustedRoots(() => [root.ca.certPem]);
    const input = (certPem: string, source: string, i: number): CertInput => ({
      certPem,
      keyPem: leaf.keyPem,
      source,
      path: ['tls', 'certificates', i],
    });
    const r = CertStore.build(
      [
        input(leaf.certPem, 'leaf-only.pem', 0),
        input(leaf.certPem + intermediate.ca.certPem, 'full.pem', 1),
        // Not from a file (ACME): its chain is the CA's business.
        { certPem: leaf.certPem, keyPem: leaf.keyPem, source: 'acme:chain.example' },
      ],
      undefined,
      { generated, roots },
    );
    assert.deepEqual(
      r.issues.map((i) => [i.severity, i.path, i.message]),
      [
        [
          'warning',
          ['tls', 'certificates', 0],
          'leaf-only.pem: the chain does not reach a known root: add the intermediate certificate(s) after the certificate in the file (no certificate for issuer "CN=Store Intermediate" in the file or among node\'s trusted roots)',
        ],
      ],
    );
    assert.equal(r.store.lookup('chain.example')?.certificate.source, 'leaf-only.pem');
    // Without roots (unit uses), nothing is checked.
    assert.deepEqual(CertStore.build([input(leaf.certPem, 'x.pem', 0)], undefined, { generated }).issues, []);
  });
});

describe('certificatesFromConfig', () => {
  const files: Record<string, string> = {
    '/c/a.pem': a.certPem,
    '/c/a.key': a.keyPem,
    '/c/d.pem': wild.certPem,
    '/c/d.key': wild.keyPem,
  };
  const read = (path: string): string => {
    const text = files[path];
    if (text === undefined) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
    return text;
  };

  it('reads files and inline PEM, keeps the default store only, and takes its default certificate', () => {
    const r = certificatesFromConfig(
      {
        certificates: [
          { certFile: '/c/a.pem', keyFile: '/c/a.key' },
          { certFile: ips.certPem, keyFile: ips.keyPem, stores: ['default'] },
          { certFile: '/c/a.pem', keyFile: '/c/a.key', stores: ['other'] },
        ],
        stores: { default: { defaultCertificate: { certFile: '/c/d.pem', keyFile: '/c/d.key' } } },
      },
      read,
    );
    assert.deepEqual(r.issues, []);
    assert.deepEqual(
      r.certs.map((c) => [c.source, c.path]),
      [
        ['/c/a.pem', ['tls', 'certificates', 0]],
        ['inline certificate', ['tls', 'certificates', 1]],
      ],
    );
    assert.equal(r.defaultCert?.certPem, wild.certPem);
    assert.deepEqual(r.defaultCert?.path, ['tls', 'stores', 'default', 'defaultCertificate']);
  });

  it('reports an unreadable file at its key', () => {
    const r = certificatesFromConfig(
      { certificates: [{ certFile: '/c/a.pem', keyFile: '/c/missing.key' }], stores: {} },
      read,
    );
    assert.deepEqual(r.certs, []);
    assert.deepEqual(r.issues, [
      {
        severity: 'error',
        message:
          'unable to read KeyFile: open /c/missing.key: no such file or directory (Traefik reads a path that names no file as the PEM itself, and says "unable to parse TLS certificate key pair: tls: failed to find any PEM data in key input")',
        path: ['tls', 'certificates', 0, 'keyFile'],
      },
    ]);
  });
});
