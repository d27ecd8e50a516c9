import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { z } from 'zod';
import { formatIssue } from '../issues.ts';
import { fromZodIssues } from '../zod-issues.ts';
import { loadDynamic } from './load.ts';
import {
  CIPHER_SUITES,
  CURVES,
  defaultTlsOptions,
  isInlinePem,
  routerTls,
  tlsOptionsSchema,
  tlsSectionSchema,
  tlsSectionWarnings,
} from './tls.ts';
import { routerTlsDomainWarnings } from './tls-warnings.ts';

/** Every issue as `path: message (expected …)`, the way the file provider prints them. */
function errors(schema: z.ZodType, input: unknown): string[] {
  const r = schema.safeParse(input, { reportInput: true });
  assert.equal(r.success, false, 'expected the input to be refused');
  return fromZodIssues(r.error?.issues ?? [], { locate: () => ({ exact: true }) }).map(formatIssue);
}

describe('dynamic tls section', () => {
  it("parses Traefik's reference example and fills the defaults", () => {
    const r = tlsSectionSchema.parse({
      certificates: [{ certFile: '/certs/wild.pem', keyFile: '/certs/wild.key', stores: ['default'] }],
      options: {
        modern: {
          minVersion: 'VersionTLS12',
          sniStrict: true,
          alpnProtocols: ['h2', 'http/1.1'],
          clientAuth: { caFiles: ['/certs/clients-ca.pem'], clientAuthType: 'VerifyClientCertIfGiven' },
        },
      },
      stores: {
        default: { defaultCertificate: { certFile: '/certs/default.pem', keyFile: '/certs/default.key' } },
      },
    });
    assert.deepEqual(r, {
      certificates: [{ certFile: '/certs/wild.pem', keyFile: '/certs/wild.key', stores: ['default'] }],
      options: {
        modern: {
          minVersion: 'VersionTLS12',
          sniStrict: true,
          alpnProtocols: ['h2', 'http/1.1'],
          clientAuth: { caFiles: ['/certs/clients-ca.pem'], clientAuthType: 'VerifyClientCertIfGiven' },
          disableSessionTickets: false,
        },
      },
      stores: {
        default: { defaultCertificate: { certFile: '/certs/default.pem', keyFile: '/certs/default.key' } },
      },
    });
  });

  it('gives an options set declared with no value the defaults (TLS 1.2+, h2 and http/1.1, no client auth)', () => {
    const r = tlsSectionSchema.parse({ options: { empty: null } });
    assert.deepEqual(r.options['empty'], defaultTlsOptions());
    assert.deepEqual(defaultTlsOptions(), {
      minVersion: 'VersionTLS12',
      clientAuth: { caFiles: [], clientAuthType: 'NoClientCert' },
      sniStrict: false,
      alpnProtocols: ['h2', 'http/1.1'],
      disableSessionTickets: false,
    });
    assert.deepEqual(tlsSectionSchema.parse({}), { certificates: [], options: {}, stores: {} });
  });

  it('accepts every Traefik cipher suite name it can serve and every curve name', () => {
    const r = tlsOptionsSchema.parse({
      cipherSuites: Object.keys(CIPHER_SUITES),
      curvePreferences: Object.keys(CURVES),
      maxVersion: 'VersionTLS13',
      preferServerCipherSuites: true,
    });
    assert.equal(r.cipherSuites?.length, Object.keys(CIPHER_SUITES).length);
    assert.equal(r.maxVersion, 'VersionTLS13');
  });

  // Traefik's decoder takes these as strings; its buildTLSConfig refuses them (tls-options.test.ts).
  it('takes any clientAuthType, and defaults to verify when CAs are given', () => {
    const none = tlsOptionsSchema.parse({ clientAuth: { clientAuthType: 'RequireAndVerifyClientCert' } });
    assert.deepEqual(none.clientAuth, { caFiles: [], clientAuthType: 'RequireAndVerifyClientCert' });
    const r = tlsOptionsSchema.parse({ clientAuth: { caFiles: ['/ca.pem'] } });
    assert.equal(r.clientAuth.clientAuthType, 'RequireAndVerifyClientCert');
    const empty = tlsOptionsSchema.parse({ clientAuth: { caFiles: ['/ca.pem'], clientAuthType: '' } });
    assert.equal(empty.clientAuth.clientAuthType, 'RequireAndVerifyClientCert');
    const any = tlsOptionsSchema.parse({ clientAuth: { clientAuthType: 'RequireAnyClientCert' } });
    assert.deepEqual(any.clientAuth, { caFiles: [], clientAuthType: 'RequireAnyClientCert' });
    assert.equal(
      tlsOptionsSchema.parse({ clientAuth: { clientAuthType: 'Sometimes' } }).clientAuth.clientAuthType,
      'Sometimes',
    );
  });

  it('warns about an unknown minVersion or maxVersion, which Traefik ignores', () => {
    const tls = tlsSectionSchema.parse({
      options: { v: { minVersion: 'TLS1.2', maxVersion: 'VersionTLS14' } },
    });
    assert.deepEqual(
      tlsSectionWarnings(tls).map((w) => `${w.path.join('.')}: ${w.message}`),
      [
        'tls.options.v.minVersion: unknown TLS version "TLS1.2" is ignored, as in Traefik: Go\'s default applies (TLS 1.2 minimum; expected one of VersionTLS10, VersionTLS11, VersionTLS12, VersionTLS13)',
        'tls.options.v.maxVersion: unknown TLS version "VersionTLS14" is ignored, as in Traefik: Go\'s default applies (TLS 1.3 maximum; expected one of VersionTLS10, VersionTLS11, VersionTLS12, VersionTLS13)',
      ],
    );
  });

  it('reports each bad value at its path, with what was expected', () => {
    assert.deepEqual(
      errors(tlsSectionSchema, {
        options: {
          bad: {
            minVersion: 12,
            cipherSuites: ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'TLS_NOPE'],
            curvePreferences: ['P-256'],
            clientAuth: { clientAuthType: 'Sometimes' },
            alpnProtocols: [''],
            sniStrict: 'yes',
          },
        },
      }),
      [
        'tls.options.bad.minVersion: wrong type: got 12 (expected a string)',
        'tls.options.bad.sniStrict: wrong type: got "yes" (expected true or false)',
        'tls.options.bad.alpnProtocols[0]: an ALPN protocol ID has 1 to 255 bytes',
      ].map((l) => l.replace(/^tls\./, '')),
    );
  });

  it('loads the RC4 and 3DES suites Traefik accepts, and warns that they are left out', () => {
    const o = {
      cipherSuites: ['TLS_RSA_WITH_RC4_128_SHA', 'TLS_AES_128_GCM_SHA256', 'TLS_RSA_WITH_3DES_EDE_CBC_SHA'],
    };
    assert.equal(tlsOptionsSchema.safeParse(o).success, true);
    const section = tlsSectionSchema.parse({ options: { old: o } });
    assert.deepEqual(
      tlsSectionWarnings(section).map((i) => `${i.path.join('.')}: ${i.message}`),
      [
        'tls.options.old.cipherSuites.0: cipher suite `TLS_RSA_WITH_RC4_128_SHA` is left out: RC4 is prohibited (RFC 7465) and not available',
        'tls.options.old.cipherSuites.2: cipher suite `TLS_RSA_WITH_3DES_EDE_CBC_SHA` is left out: 3DES is broken (SWEET32) and not available',
      ],
    );
  });

  it('refuses a maxVersion below minVersion', () => {
    assert.deepEqual(errors(tlsOptionsSchema, { minVersion: 'VersionTLS13', maxVersion: 'VersionTLS12' }), [
      'maxVersion: maxVersion VersionTLS12 is below minVersion VersionTLS13',
    ]);
  });

  it("names Traefik's echKeys as not supported yet, rather than an unknown key", () => {
    assert.deepEqual(errors(tlsOptionsSchema, { minVersion: 'VersionTLS13', echKeys: ['/ech.pem'] }), [
      "echKeys: `echKeys` in TLS options (Traefik's encrypted ClientHello, traefik/traefik#13758) is not supported yet",
    ]);
  });

  it('reports unknown keys and missing files in certificates and stores', () => {
    assert.deepEqual(
      errors(tlsSectionSchema, {
        certificates: [{ certFile: '/a.pem' }, { certFile: '', keyFile: '/k', store: ['x'] }],
        stores: { default: { defaultCertificate: { certFile: '/d.pem' } } },
        option: {},
      }),
      [
        'certificates[0].keyFile: required key `keyFile` is missing (expected a string)',
        'certificates[1].store: unknown key `store` (did you mean `stores`?)',
        'stores.default.defaultCertificate.keyFile: required key `keyFile` is missing (expected a string)',
        'option: unknown key `option` (did you mean `options`?)',
      ],
    );
  });

  it('accepts a default generated certificate from a resolver, its domain as plain strings', () => {
    const r = tlsSectionSchema.parse({
      stores: {
        default: {
          defaultGeneratedCert: { resolver: 'le', domain: { main: 'example.com', sans: ['*.example.com'] } },
        },
      },
    });
    assert.deepEqual(r.stores['default']?.defaultGeneratedCert, {
      resolver: 'le',
      domain: { main: 'example.com', sans: ['*.example.com'] },
    });
    // Plain strings, as Traefik reads them (its sanitizeDomains takes any): a warning, below.
    assert.equal(
      tlsSectionSchema.safeParse({
        stores: { default: { defaultGeneratedCert: { resolver: 'le', domain: { main: 'a b' } } } },
      }).success,
      true,
    );
  });

  it('tells inline PEM from a path', () => {
    assert.equal(isInlinePem('-----BEGIN CERTIFICATE-----\nMII...\n-----END CERTIFICATE-----\n'), true);
    assert.equal(isInlinePem('/etc/certs/a.pem'), false);
  });

  it('warns about what Traefik ignores: other stores, certificates only in them, preferServerCipherSuites set', () => {
    const tls = tlsSectionSchema.parse({
      certificates: [
        { certFile: '/a', keyFile: '/b', stores: ['other'] },
        { certFile: '/c', keyFile: '/d', stores: ['other', 'default'] },
      ],
      options: { o: { preferServerCipherSuites: false }, p: { preferServerCipherSuites: true } },
      stores: { default: {}, other: {} },
    });
    assert.deepEqual(
      tlsSectionWarnings(tls).map((i) => `${i.severity} ${i.path.join('.')}: ${i.message}`),
      [
        'warning tls.stores.other: TLS store `other` is ignored: only the `default` store is used',
        'warning tls.certificates.0.stores: certificate is only in store(s) other, which are ignored: it will not be served',
        'warning tls.options.o.preferServerCipherSuites: preferServerCipherSuites is deprecated and has no effect (the server order is always used): remove it',
        'warning tls.options.p.preferServerCipherSuites: preferServerCipherSuites is deprecated and has no effect (the server order is always used): remove it',
      ],
    );
  });
});

describe('router tls', () => {
  it('parses options, certResolver and domains as in Traefik', () => {
    assert.deepEqual(
      routerTls.parse({
        certResolver: 'le',
        options: 'modern',
        domains: [{ main: 'example.com', sans: ['*.example.com'] }],
      }),
      { certResolver: 'le', options: 'modern', domains: [{ main: 'example.com', sans: ['*.example.com'] }] },
    );
    assert.deepEqual(routerTls.parse({}), { domains: [] });
  });

  it('reports empty names and unknown keys at their paths; any domain name loads', () => {
    // Traefik reads a router's tls.domains as plain strings: only its resolver uses them
    // (routerTlsDomainWarnings says which cannot be ordered).
    assert.deepEqual(
      errors(routerTls, {
        options: '',
        domains: [{ main: 'ok.example', sans: ['bad/name'] }],
        passthrough: true,
      }),
      ['options: must not be empty', 'passthrough: unknown key `passthrough`'],
    );
  });

  it('warns about the names of a router tls.domains entry that no certificate can hold', () => {
    assert.deepEqual(
      routerTlsDomainWarnings(
        [
          // biome-ignore lint/suspicious/noTemplateCurlyInString: a placeholder left in, the case
          { main: '${WEBSITE_DOMAIN}', sans: ['www.example.com', 'bad/name'] },
          { main: '*.example.com', sans: ['192.0.2.1'] },
        ],
        ['http', 'routers', 'r', 'tls', 'domains'],
      ).map((i) => `${i.severity} ${i.path.join('.')}: ${i.message.split(':')[0]}`),
      [
        // biome-ignore lint/suspicious/noTemplateCurlyInString: as above
        'warning http.routers.r.tls.domains.0.main: invalid domain name "${WEBSITE_DOMAIN}"',
        'warning http.routers.r.tls.domains.0.sans.1: invalid domain name "bad/name"',
      ],
    );
  });
});

// Traefik starts with both (pkg/provider/acme/provider.go watchNewDomains warns; getDefaultCertificate).
describe('tls.stores.default.defaultGeneratedCert warnings', () => {
  const lines = (store: string, certResolvers?: string[]) =>
    loadDynamic([{ file: 'dyn.yaml', text: `tls:\n  stores:\n    default:\n${store}` }], {
      ...(certResolvers === undefined ? {} : { certResolvers }),
    }).issues.map(formatIssue);

  it('beside defaultCertificate: defaultCertificate is used', () => {
    assert.deepEqual(
      lines(
        '      defaultCertificate: { certFile: a.pem, keyFile: a.key }\n      defaultGeneratedCert: { resolver: le, domain: { main: a.test } }\n',
        ['le'],
      ),
      [
        'dyn.yaml:5:7: warning: tls.stores.default.defaultGeneratedCert: defaultCertificate and defaultGeneratedCert cannot be defined at the same time: defaultCertificate is used, as in Traefik',
      ],
    );
  });

  it('a name no certificate can hold: nothing ordered, the generated certificate serves', () => {
    assert.deepEqual(
      lines(
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a placeholder left unexpanded, the case
        '      defaultGeneratedCert: { resolver: le, domain: { main: "lab.${DOMAIN}", sans: [ok.test] } }\n',
        ['le'],
      ),
      [
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a placeholder left unexpanded, the case
        'dyn.yaml:4:55: warning: tls.stores.default.defaultGeneratedCert.domain.main: invalid domain name "lab.${DOMAIN}": no certificate can be obtained for this entry (the generated certificate serves, as in Traefik, whose resolver\'s order fails)',
      ],
    );
  });

  it('an unknown resolver: nothing ordered, the names looked up all the same', () => {
    const store = '      defaultGeneratedCert: { resolver: le, domain: { main: a.test } }\n';
    assert.deepEqual(lines(store, ['le']), []);
    assert.deepEqual(lines(store, ['other']), [
      "dyn.yaml:4:31: warning: tls.stores.default.defaultGeneratedCert.resolver: unknown certificate resolver `le` (certificatesResolvers in the static configuration): nothing is ordered, and the default certificate is the store's certificate for these names if any, else the generated one, as in Traefik",
    ]);
  });
});
