import { isIP } from 'node:net';
import { type ConfigIssue, type ConfigPath, issue } from '../issues.ts';
import { DEFAULT_TLS_NAME } from './sections.ts';
import type { RouterTlsDomainConfig, TlsSectionConfig } from './tls.ts';
import { TLS_VERSIONS } from './tls-names.ts';

const DNS_NAME = /^(\*\.)?[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*\.?$/i;

/** A DNS name (wildcard `*.` first label allowed) or an IP literal: what a certificate can name. */
export function isDomainName(v: string): boolean {
  return v.length <= 253 && (DNS_NAME.test(v) || isIP(v) !== 0);
}

/**
 * A router's `tls.domains` with a name no certificate can hold (a `${DOMAIN}` placeholder left in,
 * which the file provider does not expand): Traefik loads the router and serves it, and only its
 * certificate resolver's order for that entry fails (pkg/provider/acme/provider.go, logged at run
 * time); a router without a resolver never uses the names. So a warning here, and that entry is
 * not ordered (main.ts). Zod-free, for validate.ts.
 */
export function routerTlsDomainWarnings(
  domains: readonly RouterTlsDomainConfig[],
  path: ConfigPath,
  served = 'the router is served',
): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  domains.forEach((d, i) => {
    const names: [string, ConfigPath][] = [
      [d.main, [...path, i, 'main']],
      ...d.sans.map((n, j): [string, ConfigPath] => [n, [...path, i, 'sans', j]]),
    ];
    for (const [name, at] of names) {
      if (isDomainName(name)) continue;
      out.push(
        issue(
          'warning',
          `invalid domain name "${name}": no certificate can be obtained for this entry (${served}, as in Traefik, whose resolver's order fails)`,
          at,
        ),
      );
    }
  });
  return out;
}

/**
 * Suites Go knows, Traefik accepts (pkg/tls/cipher.go) and this OpenSSL build cannot offer: they
 * load, are left out of the handshake (src/tls/tls-options.ts skips them) and get a warning.
 */
export const UNAVAILABLE_SUITES: Readonly<Record<string, string>> = {
  TLS_RSA_WITH_RC4_128_SHA: 'RC4 is prohibited (RFC 7465) and not available',
  TLS_ECDHE_ECDSA_WITH_RC4_128_SHA: 'RC4 is prohibited (RFC 7465) and not available',
  TLS_ECDHE_RSA_WITH_RC4_128_SHA: 'RC4 is prohibited (RFC 7465) and not available',
  TLS_RSA_WITH_3DES_EDE_CBC_SHA: '3DES is broken (SWEET32) and not available',
  TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA: '3DES is broken (SWEET32) and not available',
};

/**
 * What Traefik accepts but ignores, reported as warnings (`path` from the section's root, e.g.
 * `['tls', 'stores', 'other']`): stores other than `default`, certificates only in such stores,
 * and `preferServerCipherSuites` whatever its value (Traefik's tlsmanager.go UpdateConfigs warns
 * whenever it is set: deprecated and ineffective), and the cipher suites of UNAVAILABLE_SUITES.
 * Zod-free, for validate.ts.
 */
export function tlsSectionWarnings(tls: TlsSectionConfig, root: ConfigPath = ['tls']): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const name of Object.keys(tls.stores)) {
    if (name !== DEFAULT_TLS_NAME) {
      out.push(
        issue('warning', `TLS store \`${name}\` is ignored: only the \`default\` store is used`, [
          ...root,
          'stores',
          name,
        ]),
      );
    }
  }
  tls.certificates.forEach((c, i) => {
    const others = (c.stores ?? []).filter((s) => s !== DEFAULT_TLS_NAME);
    if (others.length > 0 && others.length === c.stores?.length) {
      out.push(
        issue(
          'warning',
          `certificate is only in store(s) ${others.join(', ')}, which are ignored: it will not be served`,
          [...root, 'certificates', i, 'stores'],
        ),
      );
    }
  });
  for (const [name, o] of Object.entries(tls.options)) {
    // Traefik's buildTLSConfig sets only a version it knows (pkg/tls/tlsmanager.go: `if minConst,
    // exists := MinVersion[…]; exists`): another does nothing, and Go's default applies.
    for (const [key, fallback] of [
      ['minVersion', 'TLS 1.2 minimum'],
      ['maxVersion', 'TLS 1.3 maximum'],
    ] as const) {
      const v = o[key];
      if (v === undefined || Object.hasOwn(TLS_VERSIONS, v)) continue;
      out.push(
        issue(
          'warning',
          `unknown TLS version "${v}" is ignored, as in Traefik: Go's default applies (${fallback}; expected one of ${Object.keys(TLS_VERSIONS).join(', ')})`,
          [...root, 'options', name, key],
        ),
      );
    }
    o.cipherSuites?.forEach((suite, i) => {
      const why = UNAVAILABLE_SUITES[suite];
      if (why !== undefined) {
        out.push(
          issue('warning', `cipher suite \`${suite}\` is left out: ${why}`, [
            ...root,
            'options',
            name,
            'cipherSuites',
            i,
          ]),
        );
      }
    });
    if (o.preferServerCipherSuites !== undefined) {
      out.push(
        issue(
          'warning',
          'preferServerCipherSuites is deprecated and has no effect (the server order is always used): remove it',
          [...root, 'options', name, 'preferServerCipherSuites'],
        ),
      );
    }
  }
  return out;
}

/**
 * `tls.stores.default.defaultGeneratedCert` where Traefik starts with a warning (runtime/build-tls.ts
 * acmeDefault does what Traefik does): beside `defaultCertificate`, which has precedence
 * (pkg/provider/acme/provider.go watchNewDomains), or naming a resolver the static configuration
 * lacks (nothing orders it; pkg/tls/tlsmanager.go getDefaultCertificate looks the names up all
 * the same, else the generated certificate). `certResolvers` undefined: not checked. Zod-free.
 */
export function defaultGeneratedCertWarnings(
  tls: TlsSectionConfig,
  certResolvers: readonly string[] | undefined,
  root: ConfigPath = ['tls'],
): ConfigIssue[] {
  const store = tls.stores[DEFAULT_TLS_NAME];
  const g = store?.defaultGeneratedCert;
  if (g === undefined) return [];
  const path = [...root, 'stores', DEFAULT_TLS_NAME, 'defaultGeneratedCert'];
  // Traefik's sanitizeDomains takes any name; the resolver's order fails (watchNewDomains logs it).
  const names = routerTlsDomainWarnings(
    [g.domain],
    [...path, 'domain'],
    'the generated certificate serves',
  ).map((w) => ({ ...w, path: w.path.filter((_, i) => i !== path.length + 1) }));
  if (store?.defaultCertificate !== undefined) {
    return [
      issue(
        'warning',
        'defaultCertificate and defaultGeneratedCert cannot be defined at the same time: defaultCertificate is used, as in Traefik',
        path,
      ),
    ];
  }
  if (certResolvers === undefined || certResolvers.includes(g.resolver)) return names;
  return [
    ...names,
    issue(
      'warning',
      `unknown certificate resolver \`${g.resolver}\` (certificatesResolvers in the static configuration): nothing is ordered, and the default certificate is the store's certificate for these names if any, else the generated one, as in Traefik`,
      [...path, 'resolver'],
    ),
  ];
}
