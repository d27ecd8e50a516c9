import { z } from 'zod';
import { nullAsEmpty, strictObject } from '../schema-helpers.ts';
import { DEFAULT_TLS_NAME } from './sections.ts';
import { CIPHER_SUITES, type ClientAuthType, type TlsVersionName } from './tls-names.ts';

/*
 * The dynamic `tls` section and the router-level `tls` block, with Traefik v3's keys
 * (pkg/tls/tls.go, pkg/config/dynamic/http_config.go). Names stay Traefik's (Go's) in the parsed
 * config; src/tls maps them to OpenSSL's with the tables of tls-names.ts, so that `config` never
 * needs to know about node:tls and the admin API shows what the user wrote.
 */

/** The name tables, all of tls-names.ts, are part of this module's surface. */
export * from './tls-names.ts';
/** Warnings of a `tls` section (zod-free: the file provider's validation reports them). */
export { tlsSectionWarnings } from './tls-warnings.ts';

import { UNAVAILABLE_SUITES } from './tls-warnings.ts';

/** Traefik's name of the options set and store used when none is named (sections.ts). */
export { DEFAULT_TLS_NAME };

function oneOf<T extends string>(
  known: readonly T[],
  what: string,
  refused: Readonly<Record<string, string>> = {},
  expected = `one of ${known.join(', ')}`,
) {
  return z.string().transform((value, ctx): T => {
    const found = known.find((k) => k === value);
    if (found !== undefined) return found;
    const why = refused[value];
    ctx.addIssue({
      code: 'custom',
      message:
        why !== undefined ? `${what} \`${value}\` is not supported: ${why}` : `unknown ${what} "${value}"`,
      params: { expected },
    });
    return z.NEVER;
  });
}

/**
 * A Go cipher suite name. The RC4 and 3DES ones Traefik accepts (pkg/tls/cipher.go) load too, as
 * names this OpenSSL build cannot offer: src/tls leaves them out, and tlsSectionWarnings says so.
 * For a servers transport; a TLS options set takes any string (below).
 */
export const cipherSuite = oneOf(
  [...Object.keys(CIPHER_SUITES), ...Object.keys(UNAVAILABLE_SUITES)],
  'cipher suite',
  {},
  "a Go cipher suite name such as TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 (Traefik's list)",
);

/*
 * In a TLS options set, versions, cipher suites, curves and clientAuthType are plain strings, as
 * Traefik's decoder reads them (pkg/tls/tls.go Options): its tlsmanager checks them when it
 * builds the set (pkg/tls/tlsmanager.go buildTLSConfig), which alone fails for an unknown suite,
 * curve or clientAuthType, and which ignores an unknown minVersion/maxVersion. src/tls
 * (compileTlsOptions) does the same here: the set is left out with a located error (the
 * `default` one too: its ClientHellos are closed, the rest serves), and an unknown version has
 * Go's default, with a warning (tlsSectionWarnings).
 */
/** A name that may be given empty: Traefik reads `certResolver: ""` as no resolver. */
export const optionalName = z.preprocess((v) => (v === '' ? undefined : v), z.string().min(1).optional());

/**
 * A path to a PEM file, or the PEM itself (Traefik's FileOrContent). Empty loads: Traefik reads it
 * as content without PEM data when it builds the certificate or options set, which alone fails
 * (tls-options.ts resolvePem says so, located; the rest serves).
 */
const fileOrContent = z.string();

/**
 * `{ main, sans }`: the names one certificate must cover (an entry point's `http.tls.domains`, the
 * default store's `defaultGeneratedCert.domain`). Plain strings, as Traefik reads them: only a
 * resolver's order uses them, and fails at run time for a name no certificate can hold (a
 * `${DOMAIN}` placeholder); tls-warnings.ts warns, and such an entry is not ordered (main.ts).
 */
export const tlsDomain = strictObject({ main: z.string(), sans: z.array(z.string()).default([]) });

const alpnProtocol = z
  .string()
  .refine((v) => v !== '' && Buffer.byteLength(v) <= 255, 'an ALPN protocol ID has 1 to 255 bytes');

const clientAuth = strictObject({
  caFiles: z.array(fileOrContent).default([]),
  /**
   * Absent (or empty): RequireAndVerifyClientCert when caFiles are given, else NoClientCert (as
   * Traefik). An unknown one, or one that verifies without caFiles, fails the set when it is
   * built (tls-options.ts), as Traefik's buildTLSConfig.
   */
  clientAuthType: z.string().optional(),
}).transform((v) => {
  const type: ClientAuthType | (string & {}) =
    v.clientAuthType !== undefined && v.clientAuthType !== ''
      ? v.clientAuthType
      : v.caFiles.length > 0
        ? 'RequireAndVerifyClientCert'
        : 'NoClientCert';
  return { caFiles: v.caFiles, clientAuthType: type };
});

const VERSION_ORDER: Readonly<Record<TlsVersionName, number>> = {
  VersionTLS10: 0,
  VersionTLS11: 1,
  VersionTLS12: 2,
  VersionTLS13: 3,
};

export const tlsOptionsSchema = strictObject(
  {
    /** Absent or unknown: TLS 1.2, Go's server default since Go 1.22 (tls-options.ts). */
    minVersion: z.string().default('VersionTLS12'),
    /** Absent or unknown: the highest this build supports (TLS 1.3), as Go's. */
    maxVersion: z.string().optional(),
    /** Absent: ECDHE with AES-GCM or ChaCha20-Poly1305 for TLS 1.2, every TLS 1.3 suite. */
    cipherSuites: z.array(z.string()).optional(),
    /** Absent: Go's default groups (tls-options.ts DEFAULT_GROUPS). */
    curvePreferences: z.array(z.string()).optional(),
    clientAuth: nullAsEmpty(clientAuth).prefault({}),
    /** Refuse handshakes without SNI or whose SNI matches no certificate. */
    sniStrict: z.boolean().default(false),
    alpnProtocols: z.array(alpnProtocol).default(['h2', 'http/1.1']),
    /** Accepted for compatibility; deprecated in Go, no effect on TLS 1.3 (we always prefer ours). */
    preferServerCipherSuites: z.boolean().optional(),
    disableSessionTickets: z.boolean().default(false),
  },
  // Traefik's newest TLS options reference has `echKeys` (server-side encrypted ClientHello,
  // traefik/traefik#13758, file and KV providers): node's TLS server cannot decrypt an ECH offer.
  ['echKeys'],
  { since: { echKeys: "in TLS options (Traefik's encrypted ClientHello, traefik/traefik#13758)" } },
).superRefine((v, ctx) => {
  const max = v.maxVersion === undefined ? undefined : VERSION_ORDER[v.maxVersion as TlsVersionName];
  const min = VERSION_ORDER[v.minVersion as TlsVersionName];
  if (max !== undefined && min !== undefined && max < min) {
    ctx.addIssue({
      code: 'custom',
      message: `maxVersion ${v.maxVersion} is below minVersion ${v.minVersion}`,
      path: ['maxVersion'],
    });
  }
});

const certAndKey = strictObject({ certFile: fileOrContent, keyFile: fileOrContent });

const tlsCertificate = strictObject({
  certFile: fileOrContent,
  keyFile: fileOrContent,
  /** Absent or empty: the default store (the only one Traefik v3 uses). */
  stores: z.array(z.string().min(1)).optional(),
});

const tlsStore = strictObject({
  defaultCertificate: certAndKey.optional(),
  /** The default certificate is obtained from this ACME resolver for `domain`. */
  defaultGeneratedCert: strictObject({ resolver: z.string().min(1), domain: tlsDomain }).optional(),
});

/** The dynamic configuration's top-level `tls` section. */
export const tlsSectionSchema = strictObject({
  certificates: z.array(tlsCertificate).default([]),
  options: z.record(z.string(), nullAsEmpty(tlsOptionsSchema)).default({}),
  stores: z.record(z.string(), nullAsEmpty(tlsStore)).default({}),
});

/**
 * A router's `tls.domains` entry: any names load, as Traefik reads them (plain strings, only its
 * resolver uses them); routerTlsDomainWarnings says which cannot be ordered.
 */
export const routerTlsDomain = tlsDomain;

/** A router's `tls` block: its presence makes the router HTTPS-only. */
export const routerTls = strictObject({
  /** A name in `tls.options`; absent = `default`. */
  options: z.string().min(1).optional(),
  certResolver: optionalName,
  /** Names to obtain a certificate for; absent = the router's Host rule names. */
  domains: z.array(routerTlsDomain).default([]),
});

export type TlsSectionConfig = z.output<typeof tlsSectionSchema>;
export type TlsOptionsConfig = z.output<typeof tlsOptionsSchema>;
export type TlsOptionsInput = z.input<typeof tlsOptionsSchema>;
export type TlsCertificateConfig = TlsSectionConfig['certificates'][number];
export type TlsStoreConfig = TlsSectionConfig['stores'][string];
export type TlsDomainConfig = z.output<typeof tlsDomain>;
export type RouterTlsDomainConfig = z.output<typeof routerTlsDomain>;
export type RouterTlsConfig = z.output<typeof routerTls>;
export type ClientAuthConfig = TlsOptionsConfig['clientAuth'];

/** Traefik's built-in `default` options, for when no provider defines them. */
export function defaultTlsOptions(): TlsOptionsConfig {
  return tlsOptionsSchema.parse({});
}
